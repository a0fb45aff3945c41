using System.Globalization;
using Confluent.Kafka;

namespace SinkConnector.Configuration;

/// <summary>
/// How much librdkafka may fetch ahead of the consumer loop, bounded by <c>batch.max_bytes</c> instead of its
/// defaults (a 64 MiB queue, 50 MiB fetches), which a real broker fills faster than the sink writes: the process then
/// holds several batches' worth of messages it cannot use yet. A quarter of a batch, not a whole one: librdkafka
/// holds each queued message with its own bookkeeping beside the fetched bytes, so a 16 MiB queue cost 85-120 MiB of
/// native memory, and a 4 MiB one 37 MiB with the same rows/s and CPU per message (eng/bench.sh on a real broker,
/// results/2026-12-03-perf-memory.md). A queue that small fills many times a second, and each time it is full
/// librdkafka postpones the next fetch of a partition by <c>fetch.queue.backoff.ms</c> (1 s by default): with the
/// default the sink waited for the broker with its CPUs idle (34,000 rows/s; 150,000 with 10 ms, same CPU per
/// message, results/2026-12-03-prefetch4-backoff10-quiet-broker.md). A value the user set in <c>kafka.properties</c>
/// is left alone.
/// </summary>
public static class PrefetchBound
{
    /// <summary>With the high-level consumer this bounds the one consumer queue, whatever the number of partitions.</summary>
    public const string QueuedMaxKbytes = "queued.max.messages.kbytes";

    /// <summary>The most one fetch response may carry; it lands in the queue whole, so it is the queue's overshoot.</summary>
    public const string FetchMaxBytes = "fetch.max.bytes";

    /// <summary>How long librdkafka waits before fetching a partition again after finding the queue full.</summary>
    public const string FetchQueueBackoffMs = "fetch.queue.backoff.ms";

    /// <summary>
    /// Well under the time the loop takes to drain a quarter of a batch (a 4 MiB queue lasts ~100 ms at 150,000
    /// messages/s), so the queue is refilled before it runs dry.
    /// </summary>
    public const int FetchQueueBackoff = 10;

    private const string MessageMaxBytes = "message.max.bytes";
    private const string ReceiveMessageMaxBytes = "receive.message.max.bytes";

    // librdkafka's range for queued.max.messages.kbytes, its default fetch.max.bytes and message.max.bytes.
    private const long MaxQueuedKbytes = 2_097_151;
    private const long DefaultFetchMaxBytes = 52_428_800;
    private const long DefaultMessageMaxBytes = 1_000_000;

    public static void Apply(ConsumerConfig config, long batchMaxBytes, IReadOnlyDictionary<string, string> userProperties)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(userProperties);
        if (!userProperties.ContainsKey(QueuedMaxKbytes))
        {
            config.Set(QueuedMaxKbytes, QueuedKbytes(batchMaxBytes).ToString(CultureInfo.InvariantCulture));
        }

        if (!userProperties.ContainsKey(FetchQueueBackoffMs))
        {
            config.Set(FetchQueueBackoffMs, FetchQueueBackoff.ToString(CultureInfo.InvariantCulture));
        }

        // librdkafka refuses a fetch.max.bytes below message.max.bytes, and one above receive.message.max.bytes - 512
        // when that is set: with the latter set it derives fetch.max.bytes itself (from the queue size).
        if (!userProperties.ContainsKey(FetchMaxBytes) && !userProperties.ContainsKey(ReceiveMessageMaxBytes))
        {
            var messageMax = userProperties.TryGetValue(MessageMaxBytes, out var text)
                && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : DefaultMessageMaxBytes;
            config.Set(FetchMaxBytes, FetchBytes(batchMaxBytes, messageMax).ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>How much of a batch's bytes librdkafka fetches ahead.</summary>
    public const int BatchShare = 4;

    /// <summary>A quarter of a batch's bytes, in librdkafka's range (1 KiB to 2 GiB).</summary>
    public static long QueuedKbytes(long batchMaxBytes) => Math.Clamp(batchMaxBytes / BatchShare / 1024, 1, MaxQueuedKbytes);

    /// <summary>A quarter of a batch's bytes, no more than librdkafka's default and no less than the largest message it accepts.</summary>
    public static long FetchBytes(long batchMaxBytes, long messageMaxBytes) =>
        Math.Max(Math.Min(batchMaxBytes / BatchShare, DefaultFetchMaxBytes), messageMaxBytes);
}
