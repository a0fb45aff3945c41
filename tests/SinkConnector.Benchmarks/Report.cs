using System.Globalization;
using System.Text;
using SinkConnector.Benchmarks.Latency;

namespace SinkConnector.Benchmarks;

/// <summary>The results as Markdown (printed and saved as results/DATE.md) plus the SVG chart beside it.</summary>
public sealed partial class Report(
    BenchOptions options, MachineInfo machine, OrderWorkload workload, IReadOnlyList<Measurement> measurements,
    ProfileResult? profile, TimeSpan duration)
{
    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    private int Large => options.Sizes[1];

    private int Small => options.Sizes[0];

    private IEnumerable<string> Ran => Scenario.All.Where(s => measurements.Any(m => m.Scenario == s));

    private IEnumerable<Measurement> Of(string scenario, int size) => measurements.Where(m => m.Scenario == scenario && m.WorkloadSize == size);

    /// <summary>Median rows/s of a scenario at a size; null if it did not run.</summary>
    public double? Rate(string scenario, int size) => Of(scenario, size).Any() ? Stats.Median(Of(scenario, size).Select(m => m.RowsPerSecond)) : null;

    private double? Seconds(string scenario, int size) => Of(scenario, size).Any() ? Stats.Median(Of(scenario, size).Select(m => m.Elapsed.TotalSeconds)) : null;

    private long? PeakRss(string scenario, int size) => Of(scenario, size).Max(m => m.PeakRssBytes);

    private double? CpuPerMessage(string scenario, int size) =>
        Of(scenario, size).Any() ? Stats.Median(Of(scenario, size).Select(m => ((m.SinkCpu ?? 0) + m.BenchCpu + m.PostgresCpu) * 1e6 / m.Messages)) : null;

    private static string Alternative(string scenario, bool entityFramework) =>
        Scenario.IsUpsert(scenario)
            ? entityFramework ? Scenario.EfUpsert : Scenario.MultiRowUpsert
            : entityFramework ? Scenario.Ef : Scenario.MultiRow;

    private static string F(double? value, string format = "N0") => value is { } v && !double.IsNaN(v) ? v.ToString(format, s_invariant) : "–";

    private static string Ratio(double? value, double? baseline) => value is { } v && baseline is { } b && b > 0 ? (v / b).ToString("0.00", s_invariant) + "×" : "–";

    private static string MiB(long? bytes) => bytes is { } b ? (b / 1048576.0).ToString("N0", s_invariant) + " MiB" : "–";

    public string Markdown()
    {
        var md = new StringBuilder();
        var distinct = workload.Expected(upsert: true).Rows;
        md.AppendLine(s_invariant, $"# SinkConnector benchmark, {machine.Date}{(options.Quick ? " (quick)" : "")}");
        md.AppendLine();
        md.AppendLine(s_invariant, $"- **Machine**: {machine.Cores} cores, {machine.Cpu}; load average at start {machine.LoadAtStart}, at end {machine.LoadAtEnd}; {machine.Runtime}; commit {machine.Commit}. The run took {duration.TotalMinutes:F1} min.");
        md.AppendLine(s_invariant, $"- **Workload**: {Large:N0} order events as JSON (value {workload.AverageValueBytes:F0} bytes on average: bigint id, uuid customer, numeric amount, text currency and status, timestamptz, short text note), key = order id, {options.Partitions} partitions (by id), {options.Overlap:P0} of the events update an earlier order ({distinct:N0} distinct ids). Also at {Small:N0} (the first half) for scaling.");
        md.AppendLine(s_invariant, $"- **Setup**: PostgreSQL 15 started by the benchmark (the test server's settings: fsync, synchronous_commit and full_page_writes off, shared_buffers 256MB; autovacuum off on the target tables, which are emptied before every run); {KafkaSetup}. Batches of {options.BatchRows:N0} rows ({options.BatchRows:N0} = `batch.max_rows`) in every scenario. Median of {options.Repetitions} run(s), repetitions interleaved.");
        md.AppendLine(s_invariant, $"- **The sink**: `{options.SinkDll ?? "sink.dll built next to the benchmark (JIT only)"}`{(options.SinkDll is null ? "" : " (eng/bench.sh: the ReadyToRun publish docker/Dockerfile ships)")}, started as its own process per run.");
        if (options.SinkEnvironment.Count > 0 || options.KafkaProperties.Count > 0)
        {
            md.AppendLine(s_invariant, $"- **Non-default settings of this run**: sink environment {string.Join(", ", options.SinkEnvironment.Select(v => $"`{v.Key}={v.Value}`"))}; Kafka properties {string.Join(", ", options.KafkaProperties.Select(v => $"`{v.Key}={v.Value}`"))}.");
        }

        md.AppendLine("- **rows/s** = source messages per second (upsert writes fewer rows after de-duplication; every scenario does the same work per message). Ratios compare medians of this run only: absolute numbers on a shared 2-core machine move with the neighbours, ratios much less.");
        md.AppendLine();
        md.AppendLine(s_invariant, $"## Results at {Large:N0} messages ({KafkaShort})");
        md.AppendLine();
        md.AppendLine("| scenario | rows/s | × (a) COPY | × min(a, b) | × (c) EF Core | × (d) multi-row | commit p50 / p99 | peak RSS | CPU µs/msg, all processes |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        var copy = Rate(Scenario.Copy, Large);
        var consume = Rate(Scenario.Consume, Large);
        double? ceiling = copy is { } a && consume is { } b ? Math.Min(a, b) : copy ?? consume;
        foreach (var scenario in Ran)
        {
            var rate = Rate(scenario, Large);
            var latencies = Of(scenario, Large).SelectMany(m => m.CommitMilliseconds).ToList();
            var latency = latencies.Count > 0 ? $"{F(Stats.Percentile(latencies, 50))} / {F(Stats.Percentile(latencies, 99))} ms" : "–";
            var name = scenario is Scenario.Sink or Scenario.SinkUpsert ? $"**{Scenario.Label(scenario)}**" : Scenario.Label(scenario);
            md.AppendLine(s_invariant,
                $"| {name} | {F(rate)} | {Ratio(rate, copy)} | {Ratio(rate, ceiling)} | {Ratio(rate, Rate(Alternative(scenario, true), Large))} | " +
                $"{Ratio(rate, Rate(Alternative(scenario, false), Large))} | {latency} | {MiB(PeakRss(scenario, Large))} | {F(CpuPerMessage(scenario, Large), "F1")} |");
        }

        md.AppendLine();
        md.AppendLine((options.EfShare < 1
                          ? $"(c) and library mode consume the first {options.EfShare.ToString("P0", s_invariant)} of the topic (then stop; checked against exactly what they consumed): at its rate the whole topic would take most of the run, and its rate does not depend on the backlog. "
                          : "") +
                      "(c) and (d) are compared mode for mode: insert rows with the insert alternatives, upsert rows with the upsert ones. " +
                      "Commit latency: per batch, from starting its write to its commit (the sink: the \"Committed batch ... in N ms\" debug lines, " +
                      "which also count the wait until the consumer loop takes the result); p50/p99 over all batches of all repetitions. " +
                      "Sink rows/s: from the first \"Claimed\" log line to the commit that completes the backlog (zero lag); startup before that is listed below. " +
                      $"CPU µs/msg: CPU time of the sink process, this process ({(RealBroker ? "not the broker's JVM" : "mock brokers")}; the client of in-process scenarios) and Postgres in the window, per message: " +
                      "the machine's cost of a message, much less sensitive to neighbours than rows/s.");
        AppendTargets(md, copy);
        AppendAvro(md);
        AppendLibrary(md);
        AppendIngestCeilings(md);
        AppendFanOut(md);
        AppendBaseline(md);
        AppendBacklog(md);
        AppendScaling(md);
        AppendCpu(md);
        AppendThreads(md);
        AppendProfile(md);
        md.Append(LatencyReport.Markdown(Latency, options.Latency, options.Partitions));
        return md.ToString();
    }

    /// <summary>The steady-rate latency runs (Scenarios/SteadyRateLatency.cs), reported after the backlog scenarios.</summary>
    public IReadOnlyList<LatencyMeasurement> Latency { get; init; } = [];

    private void AppendTargets(StringBuilder md, double? copy)
    {
        var insert = Rate(Scenario.Sink, Large);
        var upsert = Rate(Scenario.SinkUpsert, Large);
        var ef = Rate(Scenario.Ef, Large);
        var multiRowUpsert = Rate(Scenario.MultiRowUpsert, Large);
        md.AppendLine();
        md.AppendLine("## Targets (2-core machine)");
        md.AppendLine();
        md.AppendLine("| target | measured | met |");
        md.AppendLine("|---|---:|:---:|");
        Target(md, "insert ≥ 0.7× COPY ceiling (a)", insert, copy, 0.7);
        Target(md, "insert ≥ 10× EF Core (c)", insert, ef, 10);
        Target(md, "upsert ≥ 0.4× COPY ceiling (a)", upsert, copy, 0.4);
        Target(md, "upsert ≥ 3× multi-row ON CONFLICT (d)", upsert, multiRowUpsert, 3);
        Target(md, "Avro insert ≥ JSON insert", Rate(Scenario.SinkAvro, Large), insert, 1);
        AppendBrokerTargets(md);
        AppendLibraryTargets(md);
    }

    private static void Target(StringBuilder md, string what, double? value, double? baseline, double goal)
    {
        var met = value is { } v && baseline is { } b && b > 0 ? v / b >= goal ? "yes" : "**no**" : "–";
        md.AppendLine(s_invariant, $"| {what} | {Ratio(value, baseline)} | {met} |");
    }

    private void AppendScaling(StringBuilder md)
    {
        md.AppendLine();
        md.AppendLine(s_invariant, $"## Scaling: {Small:N0} vs {Large:N0} messages");
        md.AppendLine();
        md.AppendLine("Time should double (ratio 2.0) and the sink's memory stay flat.");
        md.AppendLine();
        md.AppendLine(s_invariant, $"| scenario | time {Small:N0} | time {Large:N0} | ratio | rows/s {Small:N0} | rows/s {Large:N0} | startup | RSS at first claim | peak RSS {Small:N0} | peak RSS {Large:N0} |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var scenario in Ran)
        {
            var small = Seconds(scenario, Small);
            var large = Seconds(scenario, Large);
            var startups = Of(scenario, Large).Concat(Of(scenario, Small)).Where(m => m.Startup is not null).Select(m => m.Startup!.Value.TotalSeconds).ToList();
            md.AppendLine(s_invariant,
                $"| {Scenario.Short(scenario)} | {F(small, "F2")} s | {F(large, "F2")} s | {(small is { } s && large is { } l ? (l / s).ToString("F2", s_invariant) : "–")} | " +
                $"{F(Rate(scenario, Small))} | {F(Rate(scenario, Large))} | {(startups.Count > 0 ? F(Stats.Median(startups), "F1") + " s" : "–")} | " +
                $"{MiB(Of(scenario, Large).Concat(Of(scenario, Small)).Max(m => m.RssAtClaimBytes))} | " +
                $"{MiB(PeakRss(scenario, Small))} | {MiB(PeakRss(scenario, Large))} |");
        }
    }

    private void AppendCpu(StringBuilder md)
    {
        md.AppendLine();
        md.AppendLine(s_invariant, $"## Where the CPU goes ({Large:N0} messages, median per run)");
        md.AppendLine();
        md.AppendLine("CPU seconds inside the throughput window, from /proc: the `sink` process; this benchmark process (" + (RealBroker ? "not the broker, a JVM of its own" : "the mock Kafka brokers") + ", " +
                      "and for in-process scenarios also the client); the Postgres server with all its backends. \"cores busy\" = all three / wall time " +
                      "(the machine has " + machine.Cores.ToString(s_invariant) + "; other tenants' load is not included).");
        md.AppendLine();
        md.AppendLine("| scenario | wall s | sink CPU s | bench process CPU s | Postgres CPU s | cores busy | µs CPU per message (sink / bench / pg) |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var scenario in Ran)
        {
            var runs = Of(scenario, Large).ToList();
            var wall = Stats.Median(runs.Select(m => m.Elapsed.TotalSeconds));
            var sink = runs.All(m => m.SinkCpu is null) ? (double?)null : Stats.Median(runs.Select(m => m.SinkCpu ?? 0));
            var bench = Stats.Median(runs.Select(m => m.BenchCpu));
            var pg = Stats.Median(runs.Select(m => m.PostgresCpu));
            var busy = ((sink ?? 0) + bench + pg) / wall;
            var perMessage = 1e6 / runs[0].Messages;
            md.AppendLine(s_invariant,
                $"| {Scenario.Short(scenario)} | {wall:F2} | {F(sink, "F2")} | {bench:F2} | {pg:F2} | {busy:F2} | " +
                $"{F(sink * perMessage, "F1")} / {bench * perMessage:F1} / {pg * perMessage:F1} |");
        }
    }

    private void AppendThreads(StringBuilder md)
    {
        var runs = measurements.Where(m => m.WorkloadSize == Large && m.SinkThreadCpu is not null).ToList();
        if (runs.Count == 0)
        {
            return;
        }

        md.AppendLine();
        md.AppendLine("## Inside the sink process: CPU seconds by thread (sum over repetitions)");
        md.AppendLine();
        md.AppendLine("librdkafka's threads are `rdk:*` (fetching, decompressing, queueing); the consumer loop (poll, convert, batch) and the background " +
                      "batch writes (COPY encoding, Npgsql I/O) run on .NET thread-pool threads after their first await; `.NET BGC`/`.NET GC` are the garbage collector.");
        md.AppendLine();
        md.AppendLine("| thread | " + string.Join(" | ", runs.Select(r => r.Scenario).Distinct().Select(Scenario.Short)) + " |");
        md.AppendLine("|---|" + string.Concat(runs.Select(r => r.Scenario).Distinct().Select(_ => "---:|")));
        var groups = runs.SelectMany(r => r.SinkThreadCpu!.Keys).Select(ThreadGroup).Distinct().Order(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            var cells = runs.Select(r => r.Scenario).Distinct().Select(scenario =>
            {
                var ofScenario = runs.Where(r => r.Scenario == scenario).ToList();
                var seconds = ofScenario.Sum(r => r.SinkThreadCpu!.Where(t => ThreadGroup(t.Key) == group).Sum(t => t.Value));
                var total = ofScenario.Sum(r => r.SinkThreadCpu!.Values.Sum());
                return $"{seconds:F2} s ({(total > 0 ? seconds / total : 0):P0})";
            });
            md.AppendLine($"| `{group}` | {string.Join(" | ", cells)} |");
        }
    }

    private static string ThreadGroup(string name) => name switch
    {
        _ when name.StartsWith("rdk:", StringComparison.Ordinal) => "rdk:* (librdkafka)",
        ".NET TP Worker" => ".NET TP Worker (consumer loop, conversion, batch writes)",
        ".NET Tiered Com" => ".NET Tiered Com (background JIT: tiering up)",
        ".NET BGC" or ".NET Server GC" or ".NET GC" => ".NET BGC (background GC)",
        _ => "other (main thread, timers, sockets, logger...)",
    };

    private void AppendProfile(StringBuilder md)
    {
        if (profile is null)
        {
            return;
        }

        md.AppendLine();
        md.AppendLine(s_invariant, $"## Profile: the sink's pieces alone ({Large:N0} messages)");
        md.AppendLine();
        md.AppendLine("In this process, one thread where it says so; allocations from the runtime's per-thread or total counters.");
        md.AppendLine();
        md.AppendLine("| what | rows/s | allocated per message | note |");
        md.AppendLine("|---|---:|---:|---|");
        foreach (var line in profile.Lines)
        {
            md.AppendLine(s_invariant, $"| {line.What} | {F(line.RowsPerSecond)} | {(line.BytesPerMessage is { } b ? F(b) + " B" : "–")} | {line.Note} |");
        }

        if (profile.Variants.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("### `sink run` with a runtime setting changed (one run each, same data)");
            md.AppendLine();
            md.AppendLine("| run | rows/s | sink CPU µs/msg | startup | peak RSS |");
            md.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var scenario in new[] { Scenario.Sink, Scenario.SinkUpsert })
            {
                var defaults = Of(scenario, Large).ToList();
                if (defaults.Count > 0)
                {
                    md.AppendLine(s_invariant,
                        $"| {Scenario.Short(scenario)}, defaults (median above) | {F(Rate(scenario, Large))} | {F(Stats.Median(defaults.Select(m => (m.SinkCpu ?? 0) * 1e6 / m.Messages)), "F1")} | " +
                        $"{F(Stats.Median(defaults.Select(m => m.Startup?.TotalSeconds ?? 0)), "F1")} s | {MiB(PeakRss(scenario, Large))} |");
                }

                foreach (var (variant, run) in profile.Variants.Where(v => v.Run.Scenario == scenario))
                {
                    md.AppendLine(s_invariant,
                        $"| {Scenario.Short(scenario)}, `{variant}` | {F(run.RowsPerSecond)} | {F((run.SinkCpu ?? 0) * 1e6 / run.Messages, "F1")} | " +
                        $"{F(run.Startup?.TotalSeconds, "F1")} s | {MiB(run.PeakRssBytes)} |");
                }
            }
        }

        foreach (var perf in profile.Perf)
        {
            md.AppendLine();
            md.AppendLine(s_invariant, $"### perf: where `sink run` spends its CPU, {Scenario.Short(perf.Scenario)} ({perf.Samples:N0} samples at {perf.SampleHz:F0} Hz = {perf.Samples / perf.SampleHz:F1} CPU s, run at {perf.Run.RowsPerSecond:N0} rows/s)");
            md.AppendLine();
            md.AppendLine("Samples from the first claim to the end of the backlog; each counts towards the first category one of its frames matches, leaf first " +
                          "(so GC and allocation helpers count towards the managed code that triggered them).");
            md.AppendLine();
            md.AppendLine("| category | share | CPU s | µs per message |");
            md.AppendLine("|---|---:|---:|---:|");
            foreach (var (category, samples) in perf.Categories)
            {
                md.AppendLine(s_invariant,
                    $"| {category} | {(double)samples / perf.Samples:P1} | {samples / perf.SampleHz:F2} | {samples / perf.SampleHz * 1e6 / perf.Run.Messages:F1} |");
            }
        }
    }

    /// <summary>Writes results/DATE[-quick].md and .svg; returns their paths.</summary>
    public (string Markdown, string Chart) Save()
    {
        var directory = options.OutputDirectory ?? Path.Combine(ProjectDirectory(), "results");
        Directory.CreateDirectory(directory);
        var name = machine.Date + (options.Tag is { } tag ? "-" + tag : "") + (options.Quick ? "-quick" : "") + (RealBroker ? "-broker" : "");
        var chart = Path.Combine(directory, name + ".svg");
        var markdown = Path.Combine(directory, name + ".md");
        File.WriteAllText(chart, SvgChart.Render($"rows/s per scenario, {machine.Date} ({machine.Cores} cores, {KafkaShort})", Ran.ToList(),
            [Small, Large], (scenario, size) => Rate(scenario, size)));
        File.WriteAllText(markdown, Markdown() + $"\n![rows/s per scenario]({name}.svg)\n");
        return (markdown, chart);
    }

    /// <summary>tests/SinkConnector.Benchmarks, found upwards from the build output.</summary>
    public static string ProjectDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SinkConnector.Benchmarks.csproj")))
            {
                return directory.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
