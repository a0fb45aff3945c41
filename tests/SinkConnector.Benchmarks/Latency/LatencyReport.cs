using System.Globalization;
using System.Text;

namespace SinkConnector.Benchmarks.Latency;

/// <summary>The "Latency (steady rate)" section of the results, the console line per run and the per-second CSV.</summary>
public static class LatencyReport
{
    /// <summary>Issue #22: p99 at most 250 ms at 10,000 msg/s.</summary>
    public const double TargetP99Ms = 250;

    public const int TargetRate = 10_000;

    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    private static string Ms(double value) => double.IsNaN(value) ? "–" : value.ToString("N0", s_invariant);

    public static string Describe(LatencyMeasurement m, int runs) =>
        string.Create(s_invariant,
            $"    {m.Rate,9:N0} msg/s r{m.Run}/{runs} achieved {m.AchievedRate:N0} msg/s, latency p50 {Ms(m.Latency.P50)} / p95 {Ms(m.Latency.P95)} / " +
            $"p99 {Ms(m.Latency.P99)} / max {Ms(m.Latency.Max)} ms (lower bound p99 {Ms(m.LatencyLowerBound.P99)}; produce ack p99 {Ms(m.Ack.P99)}, " +
            $"max {Ms(m.Ack.Max)}; ack to visible p99 {Ms(m.AfterAck.P99)}, max {Ms(m.AfterAck.Max)}; poll resolution p99 {m.PollResolution.P99:F1} ms; {m.Batches} batches, commit p99 {Ms(m.CommitMilliseconds.P99)} ms; " +
            $"{m.Checkpoints} checkpoint(s); {m.Notable.Count} notable log line(s))");

    public static string Markdown(IReadOnlyList<LatencyMeasurement> measurements, LatencyOptions options, int partitions)
    {
        var md = new StringBuilder();
        if (measurements.Count == 0)
        {
            return "";
        }

        md.AppendLine();
        md.AppendLine("## Latency (steady rate)");
        md.AppendLine();
        md.AppendLine(
            $"A producer (acks=all, idempotent, linger 5 ms) holds each rate for {options.WarmUp.TotalSeconds:F0} s of warm-up (not counted) and {options.Duration.TotalSeconds:F0} s " +
            $"into a new topic of {partitions} partitions while `sink run` (the same publish as above, started before the first message and " +
            $"with its partitions claimed; librdkafka's default client settings against a real broker, `fetch.wait.max.ms: 5` against the mock cluster) consumes it with `batch.max_latency: {options.MaxLatency.TotalMilliseconds:F0}ms`. " +
            $"Kafka: {measurements[0].Kafka}. One message per partition is produced and acknowledged before the sink starts (partition leaders, producer id). " +
            "**Latency** = the message's CreateTime until its row is committed and visible in Postgres: a poller reads the sink's `sink.offsets` " +
            $"(committed in the same transaction as the rows) every {options.PollInterval.TotalMilliseconds:F0} ms and stamps each newly covered offset range with the time " +
            "the read's answer arrived, an upper bound; the lower bound is the previous read's request time. Each run is its own row: a tail is a property of a run.");
        md.AppendLine();
        md.AppendLine("| rate msg/s | run | achieved msg/s | p50 ms | p95 ms | p99 ms | max ms | p99 lower bound | produce ack p99 / max ms | ack to visible p99 / max ms | poll resolution p50 / p99 ms | batches, commit p99 ms | Kafka |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var m in measurements.OrderByDescending(m => m.Rate).ThenBy(m => m.Run))
        {
            md.AppendLine(s_invariant,
                $"| {m.Rate:N0} | {m.Run} | {m.AchievedRate:N0} | {Ms(m.Latency.P50)} | {Ms(m.Latency.P95)} | **{Ms(m.Latency.P99)}** | {Ms(m.Latency.Max)} | " +
                $"{Ms(m.LatencyLowerBound.P99)} | {Ms(m.Ack.P99)} / {Ms(m.Ack.Max)} | {Ms(m.AfterAck.P99)} / {Ms(m.AfterAck.Max)} | {m.PollResolution.P50:F1} / {m.PollResolution.P99:F1} | " +
                $"{m.Batches:N0}, {Ms(m.CommitMilliseconds.P99)} | {ShortKafka(m.Kafka)} |");
        }

        var atTarget = measurements.Where(m => m.Rate == TargetRate).ToList();
        if (atTarget.Count > 0)
        {
            var worst = atTarget.Max(m => m.Latency.P99);
            md.AppendLine();
            md.AppendLine(s_invariant,
                $"Target p99 ≤ {TargetP99Ms:F0} ms at {TargetRate:N0} msg/s: **{(worst <= TargetP99Ms ? "met" : "missed")}** (worst run p99 {Ms(worst)} ms over {atTarget.Count} run(s)).");
        }

        AppendWorstSeconds(md, measurements);
        return md.ToString();
    }

    /// <summary>Per run, the seconds (by CreateTime) with the highest latency and what the machine and the sink did then.</summary>
    private static void AppendWorstSeconds(StringBuilder md, IReadOnlyList<LatencyMeasurement> measurements)
    {
        md.AppendLine();
        md.AppendLine("Slowest seconds of each run (by the CreateTime of the messages; sink, GC-thread, Postgres and machine CPU in that second; steal = time the hypervisor gave to other guests; CPU wait = share of the second in which some runnable task waited for a core, Linux PSI):");
        md.AppendLine();
        md.AppendLine("| rate | run | second | produced | p99 / max ms | ack max ms | batches, slowest commit ms | CPU s: sink (GC) / pg / machine, steal; CPU wait | sink log |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var m in measurements.OrderByDescending(m => m.Rate).ThenBy(m => m.Run))
        {
            foreach (var s in m.Seconds.Where(s => s.Counted).OrderByDescending(s => s.Latency.Max).Take(2))
            {
                var cpu = s.Sample is { } c ? string.Create(s_invariant, $"{c.SinkCpu:F2} ({c.SinkGcCpu:F2}) / {c.PostgresCpu:F2} / {c.MachineBusy:F2}, {c.MachineSteal:F2}; {c.CpuPressure:P0}") : "–";
                var log = string.Join("; ", s.Notable.Take(3).Select(e => $"{e.Level}: {Truncate(e.Text)}"));
                md.AppendLine(s_invariant,
                    $"| {m.Rate:N0} | {m.Run} | {s.Second} | {s.Produced:N0} | {Ms(s.Latency.P99)} / {Ms(s.Latency.Max)} | {Ms(s.AckMax)} | {s.Batches}, {Ms(s.CommitMaxMs)} | {cpu} | {(log.Length > 0 ? log : "–")} |");
            }
        }
    }

    /// <summary>"Apache Kafka 2.4.0 broker" of "Apache Kafka 2.4.0 broker from /path ... on 127.0.0.1:port (...)"; the full description is above the table.</summary>
    private static string ShortKafka(string description) => description.Split(" from ")[0];

    private static string Truncate(string text) => (text.Length > 80 ? text[..80] + "…" : text).Replace("|", "\\|", StringComparison.Ordinal);

    /// <summary>Every second of a run, for <c>--logs</c>: what was produced and how late it became visible, next to what the sink and the machine did.</summary>
    public static string SecondsCsv(LatencyMeasurement m)
    {
        var csv = new StringBuilder("second,counted,produced,p50_ms,p99_ms,max_ms,ack_max_ms,batches,commit_max_ms,sink_cpu_s,sink_gc_cpu_s,pg_cpu_s,machine_busy_s,steal_s,cpu_wait,sink_rss_mib,notable\n");
        foreach (var s in m.Seconds)
        {
            var c = s.Sample;
            csv.AppendLine(s_invariant,
                $"{s.Second},{s.Counted},{s.Produced},{s.Latency.P50:F1},{s.Latency.P99:F1},{s.Latency.Max:F1},{s.AckMax:F1},{s.Batches},{s.CommitMaxMs:F0}," +
                $"{c?.SinkCpu:F2},{c?.SinkGcCpu:F2},{c?.PostgresCpu:F2},{c?.MachineBusy:F2},{c?.MachineSteal:F2},{c?.CpuPressure:F2},{(c is null ? "" : (c.SinkRssBytes / 1048576.0).ToString("F0", s_invariant))}," +
                $"\"{string.Join(" / ", s.Notable.Select(e => e.Text)).Replace("\"", "'", StringComparison.Ordinal)}\"");
        }

        return csv.ToString();
    }

    /// <summary>A latency-only run (<c>--scenarios latency</c>): prints and writes results/DATE-latency.md; returns its path.</summary>
    public static string Save(BenchOptions options, MachineInfo machine, IReadOnlyList<LatencyMeasurement> measurements, TimeSpan duration)
    {
        var md = new StringBuilder();
        md.AppendLine(s_invariant, $"# SinkConnector steady-rate latency, {machine.Date}{(options.Quick ? " (quick)" : "")}");
        md.AppendLine();
        md.AppendLine(s_invariant, $"- **Machine**: {machine.Cores} cores, {machine.Cpu}; load average at start {machine.LoadAtStart}, at end {machine.LoadAtEnd}; {machine.Runtime}; commit {machine.Commit}. The run took {duration.TotalMinutes:F1} min.");
        md.AppendLine("- **Setup**: PostgreSQL 15 started by the benchmark (the test server's settings: fsync, synchronous_commit and full_page_writes off); the insert-mode table `public.orders_log`, emptied before every run; ~190-byte JSON order events.");
        md.AppendLine(s_invariant, $"- **The sink**: `{options.SinkDll ?? "sink.dll built next to the benchmark (JIT only)"}`, started as its own process per run.");
        md.Append(Markdown(measurements, options.Latency, options.Partitions));
        var text = md.ToString();
        Console.WriteLine();
        Console.WriteLine(text);
        var directory = options.OutputDirectory ?? Path.Combine(Report.ProjectDirectory(), "results");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{machine.Date}-latency{(options.Quick ? "-quick" : "")}.md");
        File.WriteAllText(path, text);
        return path;
    }
}
