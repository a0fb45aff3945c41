using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Writing;

namespace SinkConnector.Cli.Commands;

/// <summary>`sink validate`'s listing of the topics each topics_regex mapping reads now, and the table each goes to.</summary>
internal static class TopicPatternListing
{
    /// <summary>
    /// Prints, per topics_regex mapping, each existing matching topic and its table; returns the mappings whose tables
    /// validate checks: a templated table that does not exist yet is not a problem under auto_create (created when
    /// its topic is first written), and is one otherwise.
    /// </summary>
    public static async Task<IReadOnlyList<MappingConfig>> PrintAsync(
        NpgsqlConnection connection, IReadOnlyList<MappingConfig> mappings, IReadOnlyList<MappingConfig> expanded, CancellationToken cancellationToken)
    {
        var checkedMappings = new List<MappingConfig>(mappings.WithFixedTables());
        foreach (var mapping in mappings.Where(m => m.TopicsRegex is not null))
        {
            var topics = expanded.Where(m => m.File == mapping.File).ToList();
            Console.WriteLine($"mapping {mapping.Name}: topics_regex '{mapping.TopicsRegex}' matches {topics.Count} existing topic(s)".ReplaceLineEndings(" "));
            foreach (var topic in topics)
            {
                var exists = await TableInspector.ColumnsAsync(connection, topic.Table, cancellationToken) is not null;
                var note = exists ? "" : topic.AutoCreate ? " (created when the topic is first written: auto_create)" : " (does not exist)";
                Console.WriteLine($"  {topic.Topics[0]} -> {Quoted(topic.Table)}{note}".ReplaceLineEndings(" "));
                if (topic.TableFromTemplate && (exists || !topic.AutoCreate))
                {
                    checkedMappings.Add(topic);
                }
            }
        }

        return checkedMappings;
    }

    private static string Quoted(TableName table) => $"\"{table.Schema.Replace("\"", "\"\"", StringComparison.Ordinal)}\".\"{table.Name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
