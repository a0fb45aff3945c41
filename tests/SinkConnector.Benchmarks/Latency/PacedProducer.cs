using System.Diagnostics;
using Confluent.Kafka;

namespace SinkConnector.Benchmarks.Latency;

/// <summary>What the producer did: when it produced its first and last message (ms, <see cref="LatencyTimeline.Now"/>) and how many failed.</summary>
public sealed record ProducerRun(double StartMs, double EndMs, int Failures, string? FirstFailure);

/// <summary>
/// Produces a workload at a fixed rate: message i is due <c>i / rate</c> seconds after the start, and the loop
/// produces whatever is due, then sleeps about a millisecond (so at 10,000 msg/s about ten messages per wake-up).
/// Each message's CreateTime is set when it is produced, not when it was due: a producer that falls behind shows
/// in the achieved rate, not as sink latency. Runs on its own thread; the delivery reports fill the timeline.
/// </summary>
public static class PacedProducer
{
    public static ProducerRun Run(
        IProducer<byte[]?, byte[]?> producer, string topic, IReadOnlyList<OrderEvent> events, int rate, LatencyTimeline timeline, CancellationToken cancellationToken)
    {
        var failures = 0;
        string? firstFailure = null;
        // The CreateTime is the one this loop set, not the one the report carries: librdkafka's mock cluster reports
        // none (0), and a topic with message.timestamp.type=LogAppendTime would report the broker's.
        void Delivered(DeliveryReport<byte[]?, byte[]?> report, long createTimeMs)
        {
            var at = LatencyTimeline.Now();
            try
            {
                if (report.Error.IsError)
                {
                    throw new InvalidOperationException(report.Error.ToString());
                }

                timeline.Acknowledged(report.Partition.Value, report.Offset.Value, createTimeMs, at);
            }
            catch (Exception e) when (e is InvalidOperationException or IndexOutOfRangeException)
            {
                // The client swallows what a delivery handler throws: counted here, the run fails on it.
                Interlocked.Increment(ref failures);
                Interlocked.CompareExchange(ref firstFailure, $"{report.TopicPartitionOffset}: {e.Message}", null);
            }
        }

        var clock = Stopwatch.StartNew();
        var startMs = LatencyTimeline.Now();
        var endMs = startMs;
        var sent = 0;
        while (sent < events.Count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var due = (int)Math.Min(events.Count, (long)(clock.Elapsed.TotalSeconds * rate) + 1);
            for (; sent < due; sent++)
            {
                var e = events[sent];
                var createTime = new Timestamp(DateTime.UtcNow, TimestampType.CreateTime);
                var message = new Message<byte[]?, byte[]?> { Key = OrderWorkload.Key(e), Value = OrderWorkload.Json(e), Timestamp = createTime };
                while (true)
                {
                    try
                    {
                        producer.Produce(new TopicPartition(topic, e.Partition), message, report => Delivered(report, createTime.UnixTimestampMs));
                        break;
                    }
                    catch (ProduceException<byte[]?, byte[]?> x) when (x.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(1));
                    }
                }
            }

            endMs = LatencyTimeline.Now();
            Thread.Sleep(1);
        }

        producer.Flush(TimeSpan.FromSeconds(60));
        return new ProducerRun(startMs, endMs, failures, firstFailure);
    }

    /// <summary>
    /// Produces <paramref name="events"/> (one per partition) and waits for their acknowledgements, before the sink
    /// starts: a new topic's partition leaders, the idempotent producer's id and the connections are then in place,
    /// so the first paced messages do not wait for what only the first messages of a topic wait for.
    /// </summary>
    public static void Prime(IProducer<byte[]?, byte[]?> producer, string topic, IEnumerable<OrderEvent> events)
    {
        var failures = 0;
        foreach (var e in events)
        {
            producer.Produce(new TopicPartition(topic, e.Partition), new Message<byte[]?, byte[]?> { Key = OrderWorkload.Key(e), Value = OrderWorkload.Json(e) },
                report => failures += report.Error.IsError ? 1 : 0);
        }

        if (producer.Flush(TimeSpan.FromSeconds(60)) > 0 || failures > 0)
        {
            throw new InvalidOperationException($"priming {topic} failed: {failures} message(s) not acknowledged");
        }
    }
}
