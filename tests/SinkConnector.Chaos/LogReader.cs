using System.Buffers.Binary;
using Confluent.Kafka;

namespace SinkConnector.Chaos;

/// <summary>One record as Kafka stores it: which planned message (by its <c>chaos-seq</c> header), and where.</summary>
internal sealed record LogRecord(PlannedMessage Message, int Partition, long Offset);

/// <summary>
/// Reads both topics back from the beginning once producing is done. The expected state is computed from what the
/// log holds, not from what the producer meant to write: the mock broker's idempotence is not airtight (seen: a
/// retried batch appended twice after a broker outage), and a record that is in Kafka twice must be in an insert
/// table twice. Reads without a group (assign), so the sinks' group never sees this consumer.
/// </summary>
internal static class LogReader
{
    public const string SequenceHeader = "chaos-seq";

    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    public static byte[] SequenceBytes(int sequence)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, sequence);
        return bytes;
    }

    /// <returns>The records, and per partition its low watermark (0 unless retention trimmed it).</returns>
    public static (List<LogRecord> Records, Dictionary<(string Topic, int Partition), long> LowWatermarks) ReadAll(
        string bootstrapServers, IReadOnlyList<PlannedMessage> messages)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "chaos-log-reader",
            EnableAutoCommit = false,
            FetchWaitMaxMs = 5,
        }).SetLogHandler((_, _) => { }).Build();

        var partitions = new[] { Workload.EventsTopic, Workload.AccountsTopic }
            .SelectMany(topic => Enumerable.Range(0, Workload.Partitions).Select(p => new TopicPartition(topic, p)))
            .ToList();
        var low = new Dictionary<(string, int), long>();
        var left = new Dictionary<TopicPartition, long>();
        foreach (var partition in partitions)
        {
            var watermarks = consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(30));
            low[(partition.Topic, partition.Partition.Value)] = watermarks.Low.Value;
            if (watermarks.High.Value > watermarks.Low.Value)
            {
                left[partition] = watermarks.High.Value;
            }
        }

        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var records = new List<LogRecord>();
        var deadline = DateTime.UtcNow + s_timeout;
        while (left.Count > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"reading the topics back: {left.Count} partitions not read to the end within {s_timeout}");
            }

            ConsumeResult<byte[]?, byte[]?>? result;
            try
            {
                result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                // Request errors injected near the end that no sink picked up land here: librdkafka fetches again.
                continue;
            }

            if (result is null)
            {
                continue;
            }

            var header = result.Message.Headers.GetLastBytes(SequenceHeader);
            var sequence = BinaryPrimitives.ReadInt32BigEndian(header);
            records.Add(new LogRecord(messages[sequence], result.Partition.Value, result.Offset.Value));
            if (left.TryGetValue(result.TopicPartition, out var end) && result.Offset.Value + 1 >= end)
            {
                left.Remove(result.TopicPartition);
            }
        }

        return (records, low);
    }
}
