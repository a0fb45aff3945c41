using System.Diagnostics;
using SinkConnector.Benchmarks.Latency;
using SinkConnector.Testing;

namespace SinkConnector.Benchmarks.Scenarios;

/// <summary>
/// Steady-rate latency (issue #22 item 5): a producer holds a fixed rate (<see cref="PacedProducer"/>) into a new
/// topic while the real <c>sink run</c> process consumes it with <c>batch.max_latency: 100ms</c>, already in its
/// group and with its partitions claimed before the first message. End-to-end latency of a message = its CreateTime
/// until its row is committed and visible in Postgres (<see cref="VisibilityPoller"/>), over the messages produced
/// after the warm-up. The producer must reach 95% of the rate or the run fails. One message per partition is produced
/// and acknowledged before the sink starts (<see cref="PacedProducer.Prime"/>): on a new topic the first messages also
/// wait for partition leaders and the producer id, a start-up cost of the topic, not of the sink or the steady state.
/// </summary>
public static class SteadyRateLatency
{
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Every rate, <see cref="LatencyOptions.Runs"/> times (rates interleaved); nothing unless <c>latency</c> is among the scenarios.</summary>
    public static async Task<IReadOnlyList<LatencyMeasurement>> RunAllAsync(BenchEnvironment env)
    {
        var results = new List<LatencyMeasurement>();
        if (!env.Options.Scenarios.Contains(Scenario.Latency))
        {
            return results;
        }

        var options = env.Options.Latency;
        Console.WriteLine($"==> steady-rate latency: {string.Join(" and ", options.Rates.Select(r => $"{r:N0}"))} msg/s, {options.WarmUp.TotalSeconds:F0} s warm-up + " +
                          $"{options.Duration.TotalSeconds:F0} s, {options.Runs} run(s) each, batch.max_latency {options.MaxLatency.TotalMilliseconds:F0} ms; Kafka: {env.Kafka.Description}");
        for (var run = 1; run <= options.Runs; run++)
        {
            foreach (var rate in options.Rates)
            {
                var measurement = await RunAsync(env, rate, run);
                results.Add(measurement);
                Console.WriteLine(LatencyReport.Describe(measurement, options.Runs));
            }
        }

        return results;
    }

    public static async Task<LatencyMeasurement> RunAsync(BenchEnvironment env, int rate, int run)
    {
        var options = env.Options.Latency;
        // The first event of each partition primes the topic (PacedProducer.Prime); the rest are paced.
        var partitions = env.Options.Partitions;
        var total = (int)(rate * (options.WarmUp + options.Duration).TotalSeconds) + partitions;
        var workload = OrderWorkload.Generate(total, overlap: 0, partitions);
        var topic = await env.Kafka.CreateTopicAsync($"latency-{rate}", env.Options.Partitions);
        var group = env.GroupId(Scenario.Latency, workload, run);
        await env.Database.ResetAsync();
        var directory = env.WriteSinkConfig(group, topic, upsert: false, options.MaxLatency, SinkKafkaProperties(env));
        try
        {
            var checkpoints = await CheckpointsAsync(env);
            using var producer = env.Kafka.CreateProducer();
            await Task.Run(() => PacedProducer.Prime(producer, topic, workload.Events.Take(partitions)));
            using var sink = SinkProcess.Start(["run", "--config", directory], env.SinkEnvironment(debug: true), env.Options.SinkDll);
            await WaitForClaimsAsync(sink, env.Options.Partitions);

            var timeline = new LatencyTimeline([.. Enumerable.Range(0, workload.Partitions).Select(p => workload.Events.Count(e => e.Partition == p))]);
            var poller = new VisibilityPoller(env.Database.ConnectionString, group, topic, timeline, options.PollInterval);
            var sampler = new SecondSampler(sink.Id, env.Database.ServerCpuSeconds);
            using var stop = new CancellationTokenSource();
            var polling = Task.Factory.StartNew(() => poller.Run(stop.Token), stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            var sampling = sampler.RunAsync(stop.Token);
            while (poller.Reads == 0 && !polling.IsCompleted)
            {
                await Task.Delay(5);
            }

            var paced = workload.Events.Skip(partitions).ToList();
            var produced = await Task.Factory.StartNew(
                () => PacedProducer.Run(producer, topic, paced, rate, timeline, stop.Token), stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);

            var drain = Stopwatch.StartNew();
            while (poller.Visible < total && !polling.IsCompleted)
            {
                Check(sink, drain.Elapsed < s_drainTimeout, $"{poller.Visible:N0} of {total:N0} messages visible {s_drainTimeout.TotalSeconds:F0} s after the last was produced");
                await Task.Delay(50);
            }

            await stop.CancelAsync();
            await polling;
            await sampling;
            sink.Signal(SinkProcess.SIGTERM);
            await sink.WaitForExitAsync(TimeSpan.FromSeconds(60));
            if (env.Options.LogDirectory is { } logs)
            {
                Directory.CreateDirectory(logs);
                await File.WriteAllTextAsync(Path.Combine(logs, group + ".log"), sink.Output);
            }

            Check(sink, sink.ExitCode == 0, $"sink exited {sink.ExitCode}");
            Check(sink, produced.Failures == 0, $"{produced.Failures} delivery reports failed, the first: {produced.FirstFailure}");
            await env.Database.VerifyAsync(Scenario.Latency, workload);
            var measurement = LatencyAnalysis.Measure(rate, run, env.Kafka.Description, options.WarmUp, timeline, produced, poller, sampler.Samples,
                SinkLogEvents.Parse(sink.Output)) with { Checkpoints = await CheckpointsAsync(env) - checkpoints };
            if (env.Options.LogDirectory is { } folder)
            {
                await File.WriteAllTextAsync(Path.Combine(folder, group + ".seconds.csv"), LatencyReport.SecondsCsv(measurement));
            }

            return measurement.AchievedRate >= LatencyOptions.MinimumRateShare * rate
                ? measurement
                : throw new InvalidOperationException(
                    $"latency at {rate:N0} msg/s: the producer reached only {measurement.AchievedRate:N0} msg/s (< {LatencyOptions.MinimumRateShare:P0}); the figures would not be at that rate");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Against a real broker the sink runs with librdkafka's defaults (plus any --kafka-property), as users run it; only
    /// the mock cluster needs its short fetch wait (<see cref="BenchEnvironment.KafkaProperties"/>).
    /// </summary>
    private static IReadOnlyDictionary<string, string> SinkKafkaProperties(BenchEnvironment env) =>
        env.Kafka.Mock is null ? env.Options.KafkaProperties : env.KafkaProperties;

    /// <summary>The group has formed and every partition is claimed: from here on a message waits for nothing but the sink's own path.</summary>
    private static async Task WaitForClaimsAsync(SinkProcess sink, int partitions)
    {
        var clock = Stopwatch.StartNew();
        while (SinkLogEvents.Parse(sink.Output).Count(e => e.Text.StartsWith("Claimed ", StringComparison.Ordinal)) < partitions)
        {
            Check(sink, clock.Elapsed < TimeSpan.FromMinutes(2), $"fewer than {partitions} partitions claimed");
            await Task.Delay(50);
        }
    }

    private static Task<long> CheckpointsAsync(BenchEnvironment env) =>
        env.Database.ScalarAsync("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter");

    private static void Check(SinkProcess sink, bool condition, string what)
    {
        if (!condition || sink.HasExited && sink.ExitCode != 0)
        {
            throw new InvalidOperationException($"latency: {what}:\n{sink.Output}");
        }
    }
}
