using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using SinkConnector.Testing;

namespace SinkConnector.Benchmarks.Scenarios;

/// <summary>
/// The product: the real <c>sink run</c> process on a full backlog until zero lag. The throughput window runs from
/// the sink's first "Claimed" log line (the partitions are assigned and their offsets claimed in Postgres; before it
/// the process starts .NET, loads and checks the config and tables, and joins the group, reported as startup) to the
/// "Committed batch" line whose messages bring the total to the backlog, which is also when <c>sum(next_offset)</c> in
/// <c>sink.offsets</c> reaches it (polled to know when to stop). Both ends are the sink's own log timestamps, with
/// <c>SINK_LOG_LEVEL=Debug</c> for the per-batch lines, whose "in N ms" are the commit latencies. Peak RSS is
/// <c>VmHWM</c> just before SIGTERM; the process must then exit 0.
/// </summary>
public static partial class SinkEndToEnd
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(20);

    /// <param name="environment">Variables for the sink beyond <see cref="BenchEnvironment.SinkEnvironment"/>.</param>
    /// <param name="kafkaProperties">librdkafka settings for this run's sink.yaml beyond the environment's.</param>
    /// <param name="tag">Added to the consumer group id of runs outside the table (profile variants).</param>
    /// <param name="avro">The workload's Avro topic, read with <c>encoding: avro</c> through this process's registry stand-in.</param>
    /// <param name="fanOut">The workload's fan-out topic into three tables (<see cref="FanOut"/>) instead of the single mapping.</param>
    /// <param name="sinkDll">The build to run instead of <see cref="BenchOptions.SinkDll"/> (the baseline scenarios).</param>
    /// <param name="onClaimed">Called with the sink's process id at its first claim; the result is disposed when the backlog is committed.</param>
    public static async Task<Measurement> RunAsync(
        BenchEnvironment env, string scenario, int repetition, OrderWorkload workload, bool upsert,
        IReadOnlyDictionary<string, string>? environment = null, Func<int, IDisposable>? onClaimed = null, string tag = "",
        IReadOnlyDictionary<string, string>? kafkaProperties = null, bool avro = false, bool fanOut = false, string? sinkDll = null)
    {
        var group = env.GroupId(scenario + tag, workload, repetition);
        var total = workload.Events.Count;
        var directory = env.WriteSinkConfig(group, avro ? env.AvroTopic(workload) : env.Topic(workload), upsert,
            kafkaProperties: kafkaProperties is null ? null : env.KafkaPropertiesWith(kafkaProperties), avro: avro);
        if (fanOut)
        {
            FanOut.WriteMappings(directory, env.FanOutTopic(workload));
        }

        try
        {
            var started = DateTime.UtcNow;
            var variables = env.SinkEnvironment(debug: true).Concat(environment ?? new Dictionary<string, string>())
                .GroupBy(v => v.Key).ToDictionary(g => g.Key, g => g.Last().Value);
            using var sink = SinkProcess.Start(["run", "--config", directory], variables, sinkDll ?? env.Options.SinkDll);
            var deadline = Stopwatch.StartNew();
            while (!sink.Output.Contains("] Claimed ", StringComparison.Ordinal))
            {
                Check(sink, deadline, "no partition claimed");
                await Task.Delay(10);
            }

            var cpuAtClaim = env.CpuNow();
            var sinkCpuAtClaim = ProcessStats.CpuSeconds(sink.Id);
            var threadsAtClaim = ProcessStats.ThreadCpuByName(sink.Id);
            var rssAtClaim = ProcessStats.RssBytes(sink.Id);
            using var attached = onClaimed?.Invoke(sink.Id);
            var committedSql = $"SELECT coalesce(sum(next_offset), 0) FROM sink.offsets WHERE group_id = '{group}'";
            while (await env.Database.ScalarAsync(committedSql) < total)
            {
                Check(sink, deadline, "backlog not committed");
                await Task.Delay(50);
            }

            attached?.Dispose();
            var cpuAtEnd = env.CpuNow();
            var sinkCpu = ProcessStats.CpuSeconds(sink.Id) - sinkCpuAtClaim;
            var threads = ProcessStats.ThreadCpuByName(sink.Id)
                .ToDictionary(t => t.Key, t => t.Value - threadsAtClaim.GetValueOrDefault(t.Key));
            var peakRss = ProcessStats.PeakRssBytes(sink.Id);
            sink.Signal(SinkProcess.SIGTERM);
            await sink.WaitForExitAsync(TimeSpan.FromSeconds(60));
            if (sink.ExitCode != 0)
            {
                throw new InvalidOperationException($"{scenario}: sink exited {sink.ExitCode}:\n{sink.Output}");
            }

            if (env.Options.LogDirectory is { } logs)
            {
                Directory.CreateDirectory(logs);
                await File.WriteAllTextAsync(Path.Combine(logs, group + ".log"), sink.Output);
            }

            var log = ParseLog(sink.Output, started, total);
            return new Measurement(scenario, total, repetition, log.Done - log.Claimed)
            {
                RowsPerSecondAfterFirstCommit = log.Done > log.FirstCommit ? (total - log.FirstCommitMessages) / (log.Done - log.FirstCommit).TotalSeconds : null,
                Startup = log.Claimed - started,
                CommitMilliseconds = log.CommitMilliseconds,
                PeakRssBytes = peakRss,
                RssAtClaimBytes = rssAtClaim,
                SinkCpu = sinkCpu,
                SinkThreadCpu = threads,
                BenchCpu = cpuAtEnd.Bench - cpuAtClaim.Bench,
                PostgresCpu = cpuAtEnd.Postgres - cpuAtClaim.Postgres,
            };
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Check(SinkProcess sink, Stopwatch deadline, string what)
    {
        if (sink.HasExited || deadline.Elapsed > s_timeout)
        {
            throw new InvalidOperationException($"sink: {what} ({(sink.HasExited ? $"exited {sink.ExitCode}" : "timed out")}):\n{sink.Output}");
        }
    }

    /// <summary>What a sink run's log says: its first claim, its first commit, the commit that completed the backlog, every batch's commit latency.</summary>
    public sealed record SinkLog(DateTime Claimed, DateTime FirstCommit, long FirstCommitMessages, DateTime Done, List<double> CommitMilliseconds);

    public static SinkLog ParseLog(string output, DateTime started, int total)
    {
        DateTime? claimed = null;
        DateTime? firstCommit = null;
        long firstCommitMessages = 0;
        DateTime? done = null;
        var latencies = new List<double>();
        long messages = 0;
        foreach (var line in output.Split('\n'))
        {
            var match = LogLine().Match(line.TrimEnd('\r'));
            if (!match.Success)
            {
                continue;
            }

            var time = started.Date + TimeSpan.ParseExact(match.Groups["time"].Value, @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture);
            if (time < started.AddMinutes(-1))
            {
                time = time.AddDays(1); // the run crossed midnight (UTC)
            }

            var text = match.Groups["text"].Value;
            if (claimed is null && text.StartsWith("Claimed ", StringComparison.Ordinal))
            {
                claimed = time;
            }
            else if (CommittedBatch().Match(text) is { Success: true } batch)
            {
                messages += long.Parse(batch.Groups["messages"].Value, CultureInfo.InvariantCulture);
                latencies.Add(double.Parse(batch.Groups["ms"].Value, CultureInfo.InvariantCulture));
                if (firstCommit is null)
                {
                    firstCommit = time;
                    firstCommitMessages = messages;
                }

                if (messages >= total && done is null)
                {
                    done = time;
                }
            }
        }

        return claimed is { } c && done is { } d
            ? new SinkLog(c, firstCommit!.Value, firstCommitMessages, d, latencies)
            : throw new InvalidOperationException($"sink log lacks a Claimed line or commits of all {total} messages (saw {messages}):\n{output}");
    }

    // 12:34:56.789 info: sink[1001] Claimed ... (SimpleConsole, single line, UTC).
    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT(?<time>\d\d:\d\d:\d\d\.\d{3})Z \w+: sink\[\d+\] (?<text>.*)$")]
    private static partial Regex LogLine();

    [GeneratedRegex(@"^Committed batch: (?<messages>\d+) messages, \d+ rows, \d+ partitions in (?<ms>\d+) ms")]
    private static partial Regex CommittedBatch();
}
