namespace SinkConnector.Configuration;

/// <summary>The concrete mappings of topics read by <c>topics_regex</c> mappings, and which topics a config reads.</summary>
public static class TopicMappings
{
    /// <summary>
    /// The mapping as it applies to <paramref name="topic"/>: null when its regex does not match; otherwise a mapping of
    /// that one topic with the table its template renders (or its own table). A listed-topics mapping is returned as is.
    /// </summary>
    public static MappingConfig? ForTopic(this MappingConfig mapping, string topic)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        if (mapping.TopicsRegex is not { } pattern)
        {
            return mapping.Topics.Contains(topic) ? mapping : null;
        }

        if (pattern.Match(topic) is not { } match)
        {
            return null;
        }

        return mapping with
        {
            Topics = [topic],
            TopicsRegex = null,
            TableTemplate = null,
            TableFromTemplate = mapping.TableTemplate is not null,
            Table = mapping.TableTemplate?.Render(topic, match) ?? mapping.Table,
        };
    }

    /// <summary>Every mapping of <paramref name="topic"/>, in the given order, each as it applies to that topic.</summary>
    public static IEnumerable<MappingConfig> OfTopic(this IEnumerable<MappingConfig> mappings, string topic) =>
        mappings.Select(m => m.ForTopic(topic)).OfType<MappingConfig>();

    /// <summary>Whether any mapping reads <paramref name="topic"/> (listed, or matched by a regex).</summary>
    public static bool Reads(this IEnumerable<MappingConfig> mappings, string topic) => mappings.OfTopic(topic).Any();

    /// <summary>The mappings whose target table is known without a topic (no template): those checked and created at startup.</summary>
    public static IEnumerable<MappingConfig> WithFixedTables(this IEnumerable<MappingConfig> mappings) =>
        mappings.Where(m => m.TableTemplate is null);

    /// <summary>
    /// The mappings with each <c>topics_regex</c> mapping replaced by its mappings of the <paramref name="existingTopics"/>
    /// it matches (ordinal order): what operator commands inspect, since such a mapping's tables depend on the topics.
    /// </summary>
    public static IReadOnlyList<MappingConfig> ForExistingTopics(this IEnumerable<MappingConfig> mappings, IEnumerable<string> existingTopics)
    {
        var topics = existingTopics.Order(StringComparer.Ordinal).ToList();
        return [.. mappings.SelectMany(m => m.TopicsRegex is null ? [m] : topics.Select(m.ForTopic).OfType<MappingConfig>())];
    }
}
