using SinkConnector.Benchmarks.Library;
using SinkConnector.Benchmarks.Scenarios;

namespace SinkConnector.Benchmarks;

/// <summary>
/// Runs every selected scenario on every workload size, repetitions interleaved (all scenarios once, then again) so
/// that a noisy neighbour slows all of them rather than one. Each run starts from empty tables and a new consumer
/// group, and its result is checked against what was produced.
/// </summary>
public static class Runner
{
    public static async Task<List<Measurement>> RunAllAsync(BenchEnvironment env, IReadOnlyList<OrderWorkload> workloads)
    {
        await WarmUpAsync(env, workloads[0]);
        var results = new List<Measurement>();
        foreach (var workload in workloads)
        {
            for (var repetition = 1; repetition <= env.Options.Repetitions; repetition++)
            {
                foreach (var scenario in InAlternatingOrder(Scenario.All.Where(env.Options.Scenarios.Contains), repetition)
                             .Where(s => !env.Options.IsBacklog(workload.Events.Count) || Scenario.RunsOnBacklog(s)))
                {
                    await env.Database.ResetAsync();
                    var load = MachineInfo.LoadAverage();
                    var measurement = await RunAsync(env, scenario, repetition, workload) with { LoadAtStart = load };
                    if (scenario == Scenario.SinkFanOut)
                    {
                        await FanOut.VerifyAsync(env.Database.ConnectionString, workload);
                    }
                    else if (scenario != Scenario.Consume)
                    {
                        await env.Database.VerifyAsync(scenario, workload, measurement.Consumed);
                    }

                    results.Add(measurement);
                    Console.WriteLine(Describe(measurement, env.Options.Repetitions));
                }
            }
        }

        return results;
    }

    /// <summary>
    /// Every other repetition runs each baseline scenario before the one it is compared with, so that neither build
    /// always runs second (into the other's leftovers: dirty pages, a warmer broker cache).
    /// </summary>
    public static List<string> InAlternatingOrder(IEnumerable<string> scenarios, int repetition)
    {
        var list = scenarios.ToList();
        if (repetition % 2 == 0)
        {
            foreach (var baseline in list.Where(Scenario.IsBaseline).ToList())
            {
                var current = Scenario.CurrentOf(baseline);
                var (i, j) = (list.IndexOf(current), list.IndexOf(baseline));
                if (i >= 0)
                {
                    (list[i], list[j]) = (list[j], list[i]);
                }
            }
        }

        return list;
    }

    /// <summary>
    /// The in-process scenarios run once on a slice first, so that this process's JIT warm-up is not in their numbers
    /// (conservative for the sink, which is a fresh process each time and warms up inside its measured window).
    /// </summary>
    private static async Task WarmUpAsync(BenchEnvironment env, OrderWorkload workload)
    {
        var limit = Math.Min(workload.Events.Count, 2 * env.Options.BatchRows);
        Console.WriteLine($"==> warming up the in-process scenarios on {limit:N0} messages");
        foreach (var scenario in Scenario.All.Where(env.Options.Scenarios.Contains).Where(s => !Scenario.IsSinkProcess(s) && s is not Scenario.PsqlCopy))
        {
            await env.Database.ResetAsync();
            _ = await RunAsync(env, scenario, 0, workload, limit);
        }
    }

    private static async Task<Measurement> RunAsync(BenchEnvironment env, string scenario, int repetition, OrderWorkload workload, int? limit = null)
    {
        var connectionString = env.Database.ConnectionString;
        switch (scenario)
        {
            case Scenario.Copy:
            case Scenario.CopyUpsert:
                return await CopyCeiling.RunAsync(env, scenario, repetition, limit is { } n ? workload.Take(n) : workload, Scenario.IsUpsert(scenario));
            case Scenario.PsqlCopy:
                return await PsqlCopyCeiling.RunAsync(env, scenario, repetition, workload);
            case Scenario.Consume:
                return await Task.Run(() => KafkaBatchLoop.Run(env, scenario, repetition, workload, write: null, commitToKafka: false, limit));
            case Scenario.Ef:
            case Scenario.EfUpsert:
                var ef = new EfCoreConsumer(connectionString, Scenario.IsUpsert(scenario));
                limit ??= env.Options.EfShare < 1 ? (int)(workload.Events.Count * env.Options.EfShare) : null;
                return await Task.Run(() => KafkaBatchLoop.Run(env, scenario, repetition, workload, ef.WriteAsync, commitToKafka: false, limit));
            case Scenario.Library:
            case Scenario.LibraryUpsert:
                limit ??= env.Options.EfShare < 1 ? (int)(workload.Events.Count * env.Options.EfShare) : null;
                return await LibraryMode.RunAsync(env, scenario, repetition, workload, Scenario.IsUpsert(scenario), limit);
            case Scenario.MultiRow:
            case Scenario.MultiRowUpsert:
                await using (var writer = new MultiRowWriter(connectionString, Scenario.IsUpsert(scenario)))
                {
                    return await Task.Run(() => KafkaBatchLoop.Run(env, scenario, repetition, workload, writer.WriteAsync, commitToKafka: true, limit));
                }

            case Scenario.Sink:
            case Scenario.SinkUpsert:
                return await SinkEndToEnd.RunAsync(env, scenario, repetition, workload, Scenario.IsUpsert(scenario));
            case Scenario.SinkAvro:
                return await SinkEndToEnd.RunAsync(env, scenario, repetition, workload, upsert: false, avro: true);
            case Scenario.SinkFanOut:
                return await SinkEndToEnd.RunAsync(env, scenario, repetition, workload, upsert: false, fanOut: true);
            case Scenario.SinkBaseline:
            case Scenario.SinkUpsertBaseline:
                return await SinkEndToEnd.RunAsync(env, scenario, repetition, workload, Scenario.IsUpsert(scenario),
                    environment: env.Options.BaselineSinkEnvironment, sinkDll: env.Options.BaselineSinkDll);
            case Scenario.SinkDefaultPrefetch:
                return await SinkEndToEnd.RunAsync(env, scenario, repetition, workload, upsert: false, kafkaProperties: s_librdkafkaDefaultPrefetch);
            default:
                throw new ArgumentException($"unknown scenario {scenario}", nameof(scenario));
        }
    }

    /// <summary>librdkafka's own defaults, which the sink replaces by a quarter of a batch and a 10 ms backoff (<c>PrefetchBound</c>): the before of that change.</summary>
    private static readonly IReadOnlyDictionary<string, string> s_librdkafkaDefaultPrefetch = new Dictionary<string, string>
    {
        ["queued.max.messages.kbytes"] = "65536",
        ["fetch.max.bytes"] = "52428800",
        ["fetch.queue.backoff.ms"] = "1000",
    };

    private static string Describe(Measurement m, int repetitions)
    {
        var latency = m.CommitMilliseconds.Count > 0 ? $", commit p50 {Stats.Percentile(m.CommitMilliseconds, 50):F0} ms" : "";
        var rss = m.PeakRssBytes is { } bytes ? $", peak RSS {bytes / 1048576.0:F0} MiB" : "";
        var startup = m.Startup is { } s ? $", startup {s.TotalSeconds:F1} s" : "";
        var sinkCpu = m.SinkCpu is { } cpu ? $"sink {cpu:F1} + " : "";
        var partial = m.Messages < m.WorkloadSize ? $" (first {m.Messages:N0})" : "";
        return $"    {m.WorkloadSize,9:N0} r{m.Repetition}/{repetitions} {Scenario.Short(m.Scenario) + partial,-26} {m.RowsPerSecond,10:N0} rows/s " +
               $"({m.Elapsed.TotalSeconds:F2} s{latency}{rss}{startup}; CPU s: {sinkCpu}bench {m.BenchCpu:F1} + pg {m.PostgresCpu:F1})";
    }
}
