using Confluent.Kafka;

namespace SinkConnector.Configuration;

/// <summary>The librdkafka settings the exactly-once protocol depends on (docs/exactly-once.md).</summary>
public static class ConsumerSettings
{
    /// <summary>
    /// librdkafka properties the connector sets itself: exactly-once depends on them, or they have their own key.
    /// Letting <c>kafka.properties</c> override them would silently break the offset protocol.
    /// </summary>
    /// <remarks>Matched ignoring case: a spelling librdkafka would not know must not slip past as "not reserved".</remarks>
    public static IReadOnlyDictionary<string, string> ReservedProperties { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["bootstrap.servers"] = "set kafka.bootstrap_servers instead",
        ["group.id"] = "set kafka.group_id instead",
        ["auto.offset.reset"] = "set kafka.auto_offset_reset instead",
        ["enable.auto.commit"] = "the connector stores offsets in Postgres and must control commits",
        ["enable.auto.offset.store"] = "the connector stores offsets in Postgres and must control commits",
        ["isolation.level"] = "the connector reads committed messages only (read_committed)",
        ["partition.assignment.strategy"] = "the connector's rebalance handling relies on cooperative-sticky",
        ["dotnet.consumer.consume.result.fields"] = "the connector reads every field of a message (topic, key, headers, timestamp)",

        // Properties that make librdkafka load native code or run a command: a configuration file must not be
        // a way to execute code in the sink's process.
        ["plugin.library.paths"] = "it makes librdkafka load native libraries (dlopen); plugins are not supported",
        ["ssl.engine.location"] = "it makes OpenSSL load a native engine library; use ssl.providers with a provider name instead",
        ["sasl.kerberos.kinit.cmd"] = "it runs a shell command; the default kinit command is used (set sasl.kerberos.keytab and sasl.kerberos.principal)",
    };

    /// <summary>
    /// How often a consumer that subscribes by pattern (<c>topics_regex</c>) refreshes metadata, and so how soon a new
    /// matching topic is assigned: librdkafka's default (300000 ms) would leave a new topic unread for up to 5 minutes.
    /// A <c>topic.metadata.refresh.interval.ms</c> in <c>kafka.properties</c> wins.
    /// </summary>
    public const int PatternMetadataRefreshMs = 10_000;

    /// <param name="subscribesByPattern">Whether any subscription is a regex (starts with <c>^</c>).</param>
    public static ConsumerConfig Build(ConnectorSettings settings, bool subscribesByPattern = false)
    {
        var config = new ConsumerConfig(new Dictionary<string, string>(settings.Kafka.Properties))
        {
            BootstrapServers = settings.Kafka.BootstrapServers,
            GroupId = settings.Kafka.GroupId,
            // The consumer never decides what is consumed: Postgres does. Kafka commits are a courtesy
            // for lag tools, made explicitly after each database commit.
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            IsolationLevel = IsolationLevel.ReadCommitted,
            // kafka.auto_offset_reset applies only where Postgres has no offset, and the sink seeks there itself
            // (InitialOffset). librdkafka's own reset acts when a broker answers "offset out of range" for a
            // stored offset (a truncated log, an unclean leader election): jumping to the end would skip every
            // message in between, so it always goes back to the start and the sink drops what it already wrote.
            AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest,
        };

        // Properties the protocol relies on win over user-supplied ones.
        config.Set("enable.auto.commit", "false");
        config.Set("enable.auto.offset.store", "false");
        config.Set("partition.assignment.strategy", "cooperative-sticky");
        PrefetchBound.Apply(config, settings.Batch.MaxBytes, settings.Kafka.Properties);
        if (subscribesByPattern && !settings.Kafka.Properties.Keys.Any(k => string.Equals(k, "topic.metadata.refresh.interval.ms", StringComparison.OrdinalIgnoreCase)))
        {
            config.TopicMetadataRefreshIntervalMs = PatternMetadataRefreshMs;
        }

        return config;
    }

    /// <summary>Where a partition with no stored offset starts.</summary>
    public static Offset InitialOffset(ConnectorSettings settings) =>
        settings.Kafka.AutoOffsetReset == Configuration.AutoOffsetReset.Latest ? Offset.End : Offset.Beginning;
}
