using System.Diagnostics;
using SinkConnector.Benchmarks;
using SinkConnector.Benchmarks.Latency;
using SinkConnector.Benchmarks.Scenarios;

// eng/bench.sh: SinkConnector against its ceilings and the alternatives, same machine, same data, one run.
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine($"bench: {e.Message}\n{BenchOptions.Usage}");
    return 2;
}

var wall = Stopwatch.StartNew();
var machine = MachineInfo.Capture();
await using var env = await BenchEnvironment.StartAsync(options);
options = env.Options;
Console.WriteLine($"==> {string.Join(", ", options.AllSizes.Select(size => size.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))} messages, {options.Partitions} partitions, " +
                  $"{options.Overlap:P0} updates, batches of {options.BatchRows:N0}, {options.Repetitions} repetition(s); {machine.Summary}; Kafka: {env.Kafka.Description}");
try
{
    if (!options.Scenarios.Any(Scenario.All.Contains))
    {
        // --scenarios latency: no backlog to produce, a results file of its own.
        var latencyOnly = await SteadyRateLatency.RunAllAsync(env);
        var path = LatencyReport.Save(options, machine.Finish(), latencyOnly, wall.Elapsed);
        Console.WriteLine($"==> wrote {path} ({wall.Elapsed.TotalMinutes:F1} min)");
        return 0;
    }

    var full = OrderWorkload.Generate(options.AllSizes.Max(), options.Overlap, options.Partitions);
    var workloads = options.AllSizes.Select(size => size == full.Events.Count ? full : full.Take(size)).ToList();
    foreach (var workload in workloads)
    {
        var produce = Stopwatch.StartNew();
        await env.ProduceAsync(workload);
        Console.WriteLine($"==> produced {workload.Events.Count:N0} messages to {env.Topic(workload)} in {produce.Elapsed.TotalSeconds:F1} s " +
                          $"(value {workload.AverageValueBytes:F0} bytes on average)");
    }

    var measurements = await Runner.RunAllAsync(env, workloads);
    var large = workloads[1];
    var profile = options.Profile ? await Profiler.RunAsync(env, large)
        : options.Perf ? new ProfileResult([], [], await Profiler.PerfAsync(env, large))
        : null;
    var latency = await SteadyRateLatency.RunAllAsync(env);
    machine = machine.Finish();
    var report = new Report(options, machine, large, measurements, profile, wall.Elapsed) { Kafka = env.Kafka, Latency = latency };
    Console.WriteLine();
    Console.WriteLine(report.Markdown());
    var (markdownPath, chartPath) = report.Save();
    Console.WriteLine($"==> wrote {markdownPath} and {chartPath} ({wall.Elapsed.TotalMinutes:F1} min)");
    return 0;
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    // Caught, not thrown on: `await using` then stops the Postgres server and the mock cluster before the process ends.
    Console.Error.WriteLine($"bench: failed: {e}");
    return 1;
}
