using Confluent.Kafka;
using SinkConnector.Kafka;

namespace SinkConnector.Operations;

/// <summary>Where <c>sink offsets reset</c> moves a partition: exactly one of the four is set.</summary>
public sealed record ResetTarget(bool Earliest = false, bool Latest = false, long? Offset = null, DateTimeOffset? Timestamp = null);

/// <summary>One partition's new next offset, with the watermarks it was checked against.</summary>
public sealed record PartitionReset(int Partition, long NextOffset, long LowWatermark, long HighWatermark);

/// <summary>The new next offsets, or why none is set (a usage error: nothing was changed).</summary>
public sealed record OffsetResetPlan(IReadOnlyList<PartitionReset> Partitions, IReadOnlyList<string> Problems);

/// <summary>
/// Plans <c>sink offsets reset</c> against what Kafka holds. A next offset outside [low watermark, high watermark]
/// is refused rather than clamped: stored, it would make the sink skip messages silently (librdkafka answers
/// "offset out of range" by restarting at the low watermark, and the sink drops everything before the stored
/// offset) or point at messages retention already deleted. Kafka's own reset tool clamps instead; an operator who
/// asked for an offset that does not exist most likely mistyped it, so the command says so and changes nothing.
/// </summary>
public static class OffsetReset
{
    public static OffsetResetPlan Plan(TopicInspector kafka, string topic, int? partition, ResetTarget target)
    {
        var existing = kafka.Partitions(topic);
        if (partition is { } one && !existing.Contains(one))
        {
            return new([], [$"--partition {one}: topic '{topic}' has no partition {one} (its partitions: {Describe(existing)})"]);
        }

        var problems = new List<string>();
        var partitions = new List<PartitionReset>();
        foreach (var p in partition is { } only ? [only] : existing)
        {
            var tp = new TopicPartition(topic, p);
            var watermarks = kafka.Watermarks(tp);
            var (low, high) = (watermarks.Low.Value, watermarks.High.Value);
            var next = target switch
            {
                { Offset: { } offset } => offset,
                { Timestamp: { } time } => kafka.OffsetForTime(tp, time),
                { Latest: true } => high,
                _ => low,
            };
            if (next < low || next > high)
            {
                problems.Add($"--to-offset {next} is outside what Kafka holds for {topic}[{p}]: offsets {low} (low watermark) to "
                    + $"{high} (high watermark: the next offset to be written); choose N in [{low}, {high}], or --to-earliest / --to-latest");
            }

            partitions.Add(new PartitionReset(p, next, low, high));
        }

        return new(problems.Count == 0 ? partitions : [], problems);
    }

    /// <summary>"0-5", or the list when there are gaps.</summary>
    private static string Describe(IReadOnlyList<int> partitions) =>
        partitions.Count <= 1 ? string.Join(", ", partitions)
        : partitions[^1] - partitions[0] == partitions.Count - 1 ? $"{partitions[0]}-{partitions[^1]}"
        : string.Join(", ", partitions);
}
