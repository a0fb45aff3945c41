using Confluent.Kafka;
using SinkConnector.Configuration;

namespace SinkConnector.Kafka;

/// <summary>Read-only questions to the brokers: partitions, watermarks, offsets for a time (for operations).</summary>
public sealed class TopicInspector : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(15);
    private readonly IConsumer<byte[], byte[]> _consumer;
    private readonly IAdminClient _admin;

    public TopicInspector(ConnectorSettings settings)
    {
        var config = ConsumerSettings.Build(settings);
        // Its own group: asking questions must never join (and rebalance) the sink's group.
        config.GroupId = settings.Kafka.GroupId + ".inspect";
        // Operator commands report a failure once, as an exception with the reason; librdkafka's own log and
        // error lines ("all brokers down" every few milliseconds) would bury it.
        _consumer = new ConsumerBuilder<byte[], byte[]>(config)
            .SetLogHandler((_, _) => { })
            .SetErrorHandler((_, _) => { })
            .Build();
        _admin = new DependentAdminClientBuilder(_consumer.Handle).Build();
    }

    public IReadOnlyList<int> Partitions(string topic)
    {
        var metadata = _admin.GetMetadata(topic, s_timeout);
        var topicMetadata = metadata.Topics.Single(t => t.Topic == topic);
        if (topicMetadata.Error.IsError)
        {
            throw new KafkaException(topicMetadata.Error);
        }

        return topicMetadata.Partitions.Select(p => p.PartitionId).Order().ToList();
    }

    /// <summary>The topics the cluster has now, without Kafka's internal ones (<c>__consumer_offsets</c>, ...).</summary>
    public IReadOnlyList<string> TopicNames() =>
        [.. _admin.GetMetadata(s_timeout).Topics.Where(t => !t.Error.IsError && !t.Topic.StartsWith("__", StringComparison.Ordinal)).Select(t => t.Topic)];

    public WatermarkOffsets Watermarks(TopicPartition partition) => _consumer.QueryWatermarkOffsets(partition, s_timeout);

    /// <summary>The first offset at or after <paramref name="time"/>, or the high watermark when there is none.</summary>
    public long OffsetForTime(TopicPartition partition, DateTimeOffset time)
    {
        var found = _consumer.OffsetsForTimes([new TopicPartitionTimestamp(partition, new Timestamp(time))], s_timeout).Single();
        return found.Offset == Offset.End || found.Offset.Value < 0 ? Watermarks(partition).High.Value : found.Offset.Value;
    }

    public void Dispose()
    {
        _admin.Dispose();
        _consumer.Dispose();
    }
}
