using Confluent.Kafka;

namespace SinkConnector.Configuration;

/// <summary>The librdkafka settings the exactly-once protocol depends on (docs/exactly-once.md).</summary>
public static class ConsumerSettings
{
    public static ConsumerConfig Build(ConnectorSettings settings)
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
        return config;
    }

    /// <summary>Where a partition with no stored offset starts.</summary>
    public static Offset InitialOffset(ConnectorSettings settings) =>
        settings.Kafka.AutoOffsetReset == Configuration.AutoOffsetReset.Latest ? Offset.End : Offset.Beginning;
}
