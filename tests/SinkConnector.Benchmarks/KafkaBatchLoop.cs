using System.Diagnostics;
using Confluent.Kafka;
using SinkConnector.Configuration;

namespace SinkConnector.Benchmarks;

/// <summary>Writes one batch of consumed messages; returns when it is committed.</summary>
public delegate Task BatchWriter(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch);

/// <summary>
/// The in-process consumer the alternatives (and the consume-only ceiling) share: the sink's own librdkafka settings
/// (<see cref="ConsumerSettings.Build"/> on the same sink.yaml, another group id), batches closed like the sink's
/// (<c>max_rows</c> messages or <c>max_latency</c> after the first), written one after the other: consume a batch,
/// write it, consume the next, as a straightforward consumer does.
/// </summary>
public static class KafkaBatchLoop
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(20);

    /// <param name="limit">Stop after this many messages (a warm-up); all of the workload by default.</param>
    public static Measurement Run(
        BenchEnvironment env, string scenario, int repetition, OrderWorkload workload, BatchWriter? write, bool commitToKafka, int? limit = null)
    {
        var settings = env.Connector with { Kafka = env.Connector.Kafka with { GroupId = env.GroupId(scenario, workload, repetition) } };
        var total = Math.Min(limit ?? int.MaxValue, workload.Events.Count);
        var maxRows = env.Options.BatchRows;
        var maxLatency = settings.Batch.MaxLatency;
        var started = 0L;
        (double Bench, double Postgres) cpuAtStart = default;

        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(ConsumerSettings.Build(settings))
            .SetPartitionsAssignedHandler((_, _) =>
            {
                if (started == 0)
                {
                    started = Stopwatch.GetTimestamp();
                    cpuAtStart = env.CpuNow();
                }
            })
            .Build();
        consumer.Subscribe(env.Topic(workload));

        var latencies = new List<double>();
        var batch = new List<ConsumeResult<byte[]?, byte[]?>>(maxRows);
        var batchStarted = DateTime.UtcNow;
        var consumed = 0;
        var deadline = DateTime.UtcNow + s_timeout;
        while (consumed < total)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{scenario}: {consumed} of {total} messages after {s_timeout}");
            }

            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is { IsPartitionEOF: false })
            {
                if (batch.Count == 0)
                {
                    batchStarted = DateTime.UtcNow;
                }

                batch.Add(result);
                consumed++;
            }

            if (batch.Count > 0 && (batch.Count >= maxRows || consumed == total || DateTime.UtcNow - batchStarted >= maxLatency))
            {
                var writeStarted = Stopwatch.GetTimestamp();
                if (write is not null)
                {
                    write(batch).GetAwaiter().GetResult();
                    if (commitToKafka)
                    {
                        consumer.Commit(batch.GroupBy(r => r.TopicPartition)
                            .Select(p => new TopicPartitionOffset(p.Key, p.Max(r => r.Offset.Value) + 1)));
                    }

                    latencies.Add(Stopwatch.GetElapsedTime(writeStarted).TotalMilliseconds);
                }

                batch = new List<ConsumeResult<byte[]?, byte[]?>>(maxRows);
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var positions = consumer.Assignment.Select(p => (Partition: p.Partition.Value, Next: consumer.Position(p).Value)).ToList();
        var cpuAtEnd = env.CpuNow();
        consumer.Close();
        return new Measurement(scenario, total, repetition, elapsed)
        {
            WorkloadSize = workload.Events.Count,
            CommitMilliseconds = latencies,
            Consumed = total < workload.Events.Count
                ? positions.Where(p => p.Next >= 0).ToDictionary(p => p.Partition, p => p.Next)
                : null,
            BenchCpu = cpuAtEnd.Bench - cpuAtStart.Bench,
            PostgresCpu = cpuAtEnd.Postgres - cpuAtStart.Postgres,
        };
    }
}
