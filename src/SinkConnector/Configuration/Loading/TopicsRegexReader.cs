using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace SinkConnector.Configuration.Loading;

/// <summary>The <c>topics_regex</c> key of a mapping file and the <c>table:</c> template that may go with it.</summary>
internal static partial class TopicsRegexReader
{
    /// <summary>The pattern, or null when the key is absent or invalid (then with an error).</summary>
    public static TopicPattern? Read(YamlMappingNode root, YamlValueReader reader)
    {
        if (YamlValueReader.IsNull(YamlValueReader.Get(root, "topics_regex")))
        {
            return null;
        }

        if (!YamlValueReader.IsNull(YamlValueReader.Get(root, "topic")) || !YamlValueReader.IsNull(YamlValueReader.Get(root, "topics")))
        {
            reader.Error("topics_regex", "set one of topic, topics or topics_regex");
            return null;
        }

        if (reader.String(root, "", "topics_regex") is not { } text)
        {
            return null;
        }

        if (!TopicPattern.TryParse(text, out var pattern, out var error))
        {
            reader.Error("topics_regex", error!);
        }

        return pattern;
    }

    // ${NAME} is an environment variable (replaced before the value is read), not a placeholder.
    public static bool IsTemplate(YamlMappingNode root) =>
        YamlValueReader.Get(root, "table") is YamlScalarNode { Value: { } text } && TableTemplate.IsTemplate(EnvironmentReference().Replace(text, ""));

    [GeneratedRegex("\\$\\{[^}]*\\}")]
    private static partial Regex EnvironmentReference();

    /// <summary>A template table: the stand-in <see cref="TableName"/> (its schema and text) and the template.</summary>
    public static (TableName? Table, TableTemplate? Template) ReadTemplate(YamlMappingNode root, YamlValueReader reader, TopicPattern? pattern)
    {
        var text = reader.String(root, "", "table", required: true)!;
        if (pattern is null)
        {
            if (YamlValueReader.IsNull(YamlValueReader.Get(root, "topics_regex")))
            {
                reader.Error("table", $"'{text}' has placeholders, which only a topics_regex mapping can fill (a table name has no braces)");
            }

            return (null, null);
        }

        if (!TableTemplate.TryParse(text, pattern, out var template, out var error))
        {
            reader.Error("table", error!);
            return (null, null);
        }

        return (new TableName(template!.Schema, text), template);
    }

    /// <summary>What a table per topic cannot do yet: each of these is set up for one table at startup.</summary>
    public static void CheckCombinations(YamlValueReader reader, TopicPattern? pattern, TableTemplate? template, bool columnsFromSchema, bool partitioned)
    {
        if (pattern is not null && columnsFromSchema)
        {
            reader.Error("columns_from_schema",
                "cannot be combined with topics_regex yet: columns are derived at startup from the <topic>-value schema of the mapping's topics, " +
                "while each topic of a regex has its own subject (and may not exist yet). List the columns under columns:, or write one mapping per topic (topic:) with columns_from_schema");
        }

        if (template is null)
        {
            return;
        }

        if (partitioned)
        {
            reader.Error("partition",
                "cannot be combined with a table template yet: partitions are created and kept ahead per table from startup, " +
                "while a template's tables appear with their topics. Write one mapping per topic (topic: and a fixed table:) with partition:");
        }
    }
}
