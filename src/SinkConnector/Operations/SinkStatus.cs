using Confluent.Kafka;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Kafka;
using SinkConnector.Offsets;
using SinkConnector.Schema;
using AutoOffsetReset = SinkConnector.Configuration.AutoOffsetReset;

namespace SinkConnector.Operations;

/// <summary>
/// One partition of a mapped topic as <c>sink status</c> shows it: what <c>&lt;schema&gt;.offsets</c> stores for
/// the configured group, and what Kafka holds.
/// </summary>
/// <param name="NextOffset">The stored next offset; null when nothing of the partition was ever committed.</param>
/// <param name="Epoch">The stored epoch; null when no owner ever claimed the partition (no row).</param>
/// <param name="UpdatedAt">The last claim, commit or reset of the row.</param>
/// <param name="Lag">
/// <c>HighWatermark - NextOffset</c>; without a stored offset what the sink would consume when it claims the
/// partition: <c>HighWatermark - LowWatermark</c> for <c>auto_offset_reset: earliest</c>, 0 for latest.
/// </param>
public sealed record PartitionStatus(
    string Topic, int Partition, string Mapping, long? NextOffset, long? Epoch, string? Owner, DateTimeOffset? UpdatedAt,
    long LowWatermark, long HighWatermark, long Lag)
{
    public bool NeverCommitted => NextOffset is null;

    /// <summary>Set when the stored next offset lies outside what Kafka holds; null when it is inside (or absent).</summary>
    public OffsetWarning? Warning => NextOffset switch
    {
        { } next when next > HighWatermark => OffsetWarning.BeyondHighWatermark,
        { } next when next < LowWatermark => OffsetWarning.BelowLowWatermark,
        _ => null,
    };
}

/// <summary>A stored next offset Kafka cannot serve.</summary>
public enum OffsetWarning
{
    /// <summary>
    /// Past the end of the log (a reset to a wrong offset, a topic deleted and re-created): Kafka answers "offset out
    /// of range", the consumer restarts at the low watermark and the sink skips every message before the stored
    /// offset: messages written up to it are never copied. The lag is negative.
    /// </summary>
    BeyondHighWatermark,

    /// <summary>
    /// Before the start of the log: retention deleted messages the sink had not copied yet; it resumes at the low
    /// watermark. The lag counts the deleted messages too.
    /// </summary>
    BelowLowWatermark,
}

/// <summary>Sums over all partitions of a <see cref="SinkStatusReport"/>.</summary>
/// <param name="Warnings">Partitions whose stored next offset is outside the watermarks (<see cref="PartitionStatus.Warning"/>).</param>
public sealed record StatusTotals(int Partitions, long Lag, int NeverCommitted, int Warnings);

/// <summary>Every partition of every mapped topic, in mapping and partition order, and the totals.</summary>
public sealed record SinkStatusReport(string GroupId, AutoOffsetReset AutoOffsetReset, IReadOnlyList<PartitionStatus> Partitions, StatusTotals Totals);

/// <summary>
/// Assembles <c>sink status</c>. Read-only on both sides: it never claims a partition nor joins the sink's consumer
/// group (the <see cref="TopicInspector"/> has its own), so it works while sinks run and while they are stopped.
/// </summary>
public static class SinkStatus
{
    public static async Task<SinkStatusReport> ReadAsync(SinkConfig config, SinkDatabase database, TopicInspector kafka, CancellationToken cancellationToken)
    {
        var kafkaSettings = config.Connector.Kafka;
        var store = new OffsetStore(database, kafkaSettings.GroupId, owner: "status");
        // One entry per topic: several mappings may read it (their names joined), and its offsets are one set.
        // A topics_regex mapping reads the topics it matches now; a topic created later is listed once it exists.
        var mappings = config.Mappings.Any(m => m.TopicsRegex is not null) ? config.Mappings.ForExistingTopics(kafka.TopicNames()) : config.Mappings;
        var topics = mappings.SelectMany(m => m.Topics.Select(t => (Topic: t, Mapping: m)))
            .GroupBy(t => t.Topic)
            .Select(g => (Topic: g.Key, Mapping: g.First().Mapping, Names: string.Join(", ", g.Select(t => t.Mapping.Name))))
            .ToList();

        // Postgres before Kafka: a running sink only commits offsets it has fetched, so watermarks read afterwards
        // are at or above every stored offset and the lag is never negative because of the order of the reads.
        var stored = new Dictionary<string, IReadOnlyList<PartitionOffset>>();
        foreach (var (topic, _, _) in topics)
        {
            stored[topic] = await ListOffsetsAsync(store, database.Schema, topic, cancellationToken);
        }

        var partitions = new List<PartitionStatus>();
        foreach (var (topic, mapping, names) in topics)
        {
            var offsets = stored[topic].ToDictionary(o => o.Partition);
            foreach (var partition in PartitionsOf(kafka, kafkaSettings, mapping, topic))
            {
                var watermarks = WatermarksOf(kafka, kafkaSettings, new TopicPartition(topic, partition));
                var row = offsets.GetValueOrDefault(partition);
                partitions.Add(new PartitionStatus(
                    topic, partition, names, row?.NextOffset, row?.Epoch, row?.Owner, row?.UpdatedAt,
                    watermarks.Low, watermarks.High, Lag(row?.NextOffset, watermarks.Low, watermarks.High, kafkaSettings.AutoOffsetReset)));
            }
        }

        var totals = new StatusTotals(partitions.Count, partitions.Sum(p => p.Lag), partitions.Count(p => p.NeverCommitted), partitions.Count(p => p.Warning is not null));
        return new SinkStatusReport(kafkaSettings.GroupId, kafkaSettings.AutoOffsetReset, partitions, totals);
    }

    /// <summary>What is left to consume: from the stored offset, or from where <c>auto_offset_reset</c> would start.</summary>
    public static long Lag(long? nextOffset, long low, long high, AutoOffsetReset reset) => nextOffset switch
    {
        { } next => high - next,
        null when reset == AutoOffsetReset.Earliest => high - low,
        null => 0,
    };

    private static async Task<IReadOnlyList<PartitionOffset>> ListOffsetsAsync(OffsetStore store, string schema, string topic, CancellationToken cancellationToken)
    {
        try
        {
            return await store.ListAsync(topic, partition: null, cancellationToken);
        }
        catch (InvalidOperationException e) when (e.InnerException is NpgsqlException cause)
        {
            // EF Core's execution strategy wraps errors it deems transient (connection refused, ...); there is no
            // retry to make here, the operator needs the cause.
            throw new NpgsqlException($"Postgres: cannot read {schema}.offsets", cause);
        }
        catch (NpgsqlException e) when (e is not PostgresException)
        {
            throw new NpgsqlException($"Postgres: cannot read {schema}.offsets", e);
        }
    }

    private static IReadOnlyList<int> PartitionsOf(TopicInspector kafka, KafkaSettings settings, MappingConfig mapping, string topic)
    {
        try
        {
            return kafka.Partitions(topic);
        }
        catch (KafkaException e)
        {
            throw new KafkaException(new Error(e.Error.Code, $"Kafka at {settings.BootstrapServers}: cannot read the partitions of topic '{topic}' (mapped by {mapping.File})"), e);
        }
    }

    private static (long Low, long High) WatermarksOf(TopicInspector kafka, KafkaSettings settings, TopicPartition partition)
    {
        try
        {
            var watermarks = kafka.Watermarks(partition);
            return (watermarks.Low.Value, watermarks.High.Value);
        }
        catch (KafkaException e)
        {
            throw new KafkaException(new Error(e.Error.Code, $"Kafka at {settings.BootstrapServers}: cannot read the watermarks of {partition}"), e);
        }
    }
}
