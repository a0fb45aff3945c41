using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using SinkConnector.Benchmarks.Scenarios;

namespace SinkConnector.Benchmarks;

/// <summary>The sink's CPU samples in the throughput window, by what they were doing.</summary>
public sealed record PerfBreakdown(string Scenario, int Samples, double SampleHz, IReadOnlyList<(string Category, int Samples)> Categories, Measurement Run);

/// <summary>
/// <c>--perf</c>: one extra `sink run` per mode with Linux perf attached to the sink process from its first claim to the
/// end of the backlog (cpu-clock sampling, call stacks), the runtime writing /tmp/perf-PID.map so JIT-compiled frames
/// have names (W^X off, or perf cannot attribute them). Each sample is put in the first category that one of its
/// frames matches, from the leaf up: so a GC or allocation helper counts towards the managed code that called it.
/// </summary>
public static partial class PerfProfile
{
    private const int Frequency = 499;

    private const string ConsumerLoop = "consumer loop: Engine (poll, accept, allocation/GC under it)";

    private static readonly (string Category, Func<string, string, bool> Matches)[] s_categories =
    [
        ("JIT compiler (libclrjit.so): tiering up methods", (_, dso) => dso.Contains("libclrjit", StringComparison.Ordinal)),
        ("librdkafka native code (fetch, decode)", (_, dso) => dso.Contains("librdkafka", StringComparison.Ordinal)),
        ("conversion: BatchConverter, MessageConverter, JSON and value parsing", (name, _) => Conversion().IsMatch(name)),
        ("COPY encoding: CopyRowEncoder, RowCopier / UpsertWriter", (name, _) => CopyEncoding().IsMatch(name)),
        ("Confluent.Kafka Consume (marshalling to .NET)", (name, _) => name.StartsWith("Confluent.Kafka", StringComparison.Ordinal)),
        ("EF Core and DI (context, transaction per batch)", (name, _) => EntityFramework().IsMatch(name)),
        ("Npgsql other (commands, protocol, socket I/O)", (name, _) => name.StartsWith("Npgsql", StringComparison.Ordinal)),
        // Before batch bookkeeping: after an await, the loop's own code (mostly ReadyToRun, so unnamed) runs under the
        // continuation of what it awaited, WritePipeline.OldestFinishesWithinAsync, which the bookkeeping pattern matches.
        (ConsumerLoop, (name, _) => LoopContinuation().IsMatch(name)),
        ("batch bookkeeping: WriteBatch, LINQ grouping, offsets SQL", (name, _) => Batching().IsMatch(name)),
        (ConsumerLoop, (name, _) => name.StartsWith("SinkConnector.Engine", StringComparison.Ordinal)),
    ];

    public static bool Available()
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo("perf", "--version") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            probe.WaitForExit();
            return probe.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    public static async Task<PerfBreakdown> RecordAsync(BenchEnvironment env, OrderWorkload workload, string scenario)
    {
        var data = Path.Combine(Path.GetTempPath(), $"sink-bench-{Environment.ProcessId}-{scenario}.perf");
        var environment = new Dictionary<string, string>
        {
            ["DOTNET_PerfMapEnabled"] = "1",
            ["DOTNET_EnableWriteXorExecute"] = "0",
        };
        int? sinkPid = null;
        try
        {
            var run = await SinkEndToEnd.RunAsync(env, scenario, 0, workload, Scenario.IsUpsert(scenario), environment, pid =>
            {
                sinkPid = pid;
                return new Recorder(pid, data);
            }, tag: "-perf");

            var counts = new Dictionary<string, int>();
            var samples = 0;
            foreach (var stack in Stacks(data))
            {
                samples++;
                var category = Categorize(stack);
                counts[category] = counts.GetValueOrDefault(category) + 1;
            }

            if (samples == 0)
            {
                throw new InvalidOperationException("perf recorded no samples of the sink");
            }

            return new PerfBreakdown(scenario, samples, Frequency, [.. counts.OrderByDescending(c => c.Value).Select(c => (c.Key, c.Value))], run);
        }
        finally
        {
            // SINK_BENCH_KEEP_PERF=1 keeps the data and the JIT symbol map for `perf report -i` by function.
            if (Environment.GetEnvironmentVariable("SINK_BENCH_KEEP_PERF") == "1")
            {
                Console.WriteLine($"perf data kept: {data} (sink pid {sinkPid})");
            }
            else
            {
                DeleteRecording(data, sinkPid);
            }
        }
    }

    private static void DeleteRecording(string data, int? sinkPid)
    {
        File.Delete(data);
        if (sinkPid is { } pid)
        {
            File.Delete($"/tmp/perf-{pid}.map");
            File.Delete($"/tmp/perfinfo-{pid}.map");
        }
    }

    /// <summary>The category of one sample: its frames leaf first, each a perf symbol and the file it is in.</summary>
    public static string Categorize((string Thread, List<(string Symbol, string Dso)> Frames) stack)
    {
        foreach (var (symbol, dso) in stack.Frames)
        {
            var name = MethodName(symbol);
            foreach (var (category, matches) in s_categories)
            {
                if (matches(name, dso))
                {
                    return category;
                }
            }
        }

        return stack.Thread switch
        {
            var t when t.StartsWith(".NET Tiered", StringComparison.Ordinal) => "tiered-compilation thread, runtime part",
            var t when t.Contains("GC", StringComparison.Ordinal) => "GC thread",
            _ => "runtime or kernel without a managed caller",
        };
    }

    /// <summary>"instance bool [Asm] Ns.Type::Method(args)[OptimizedTier1]" becomes "Ns.Type::Method".</summary>
    private static string MethodName(string symbol)
    {
        var paren = symbol.IndexOf('(', StringComparison.Ordinal);
        var head = paren >= 0 ? symbol[..paren] : symbol;
        var space = head.LastIndexOf(' ');
        return space >= 0 ? head[(space + 1)..] : head;
    }

    /// <summary>The call stacks of `perf script`: a header line (thread name, tid) and one line per frame, leaf first.</summary>
    private static IEnumerable<(string Thread, List<(string Symbol, string Dso)> Frames)> Stacks(string data)
    {
        var info = new ProcessStartInfo("perf", ["script", "-i", data, "-F", "comm,tid,ip,sym,dso"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        _ = process.StandardError.ReadToEndAsync();
        string? thread = null;
        var frames = new List<(string, string)>();
        while (process.StandardOutput.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                if (thread is not null)
                {
                    yield return (thread, frames);
                }

                thread = null;
                frames = [];
            }
            else if (!char.IsWhiteSpace(line[0]))
            {
                thread = Header().Match(line) is { Success: true } m ? m.Groups["comm"].Value : line;
            }
            else if (Frame().Match(line) is { Success: true } frame)
            {
                frames.Add((frame.Groups["sym"].Value, frame.Groups["dso"].Value));
            }
        }

        if (thread is not null)
        {
            yield return (thread, frames);
        }

        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"perf script exited {process.ExitCode}");
        }
    }

    /// <summary>perf record attached to one process; stopping it (SIGINT) writes the data file.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly Process _perf;
        private bool _stopped;

        public Recorder(int pid, string data)
        {
            _perf = Process.Start(new ProcessStartInfo("perf", ["record", "-F", Frequency.ToString(System.Globalization.CultureInfo.InvariantCulture), "-g", "-o", data, "-p", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            // Drained, or perf blocks on a full pipe and never finishes writing its data.
            _perf.OutputDataReceived += (_, _) => { };
            _perf.ErrorDataReceived += (_, _) => { };
            _perf.BeginOutputReadLine();
            _perf.BeginErrorReadLine();
        }

        public void Dispose()
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            _ = kill(_perf.Id, 2); // SIGINT: perf finishes writing and exits
            _perf.WaitForExit(30_000);
            _perf.Dispose();
        }

        [DllImport("libc")]
        private static extern int kill(int pid, int signal);
    }

    [GeneratedRegex(@"^(?<comm>.*?)\s+\d+\s*$")]
    private static partial Regex Header();

    [GeneratedRegex(@"^\s+[0-9a-f]+\s(?<sym>.*)\s\((?<dso>[^()]*)\)$")]
    private static partial Regex Frame();

    [GeneratedRegex(@"BatchConverter|MessageConverter|Mapping\.Conversion|System\.Text\.Json|DateTimeParse|__DTString|System\.Number::|Utf8Utility|System\.Guid::")]
    private static partial Regex Conversion();

    [GeneratedRegex(@"CopyRowEncoder|CopyBuffer|RowCopier|UpsertWriter|ChangeWriter|NpgsqlBinaryImporter|Npgsql\.Internal\.Converters|PgWriter")]
    private static partial Regex CopyEncoding();

    [GeneratedRegex(@"EntityFrameworkCore|DependencyInjection")]
    private static partial Regex EntityFramework();

    [GeneratedRegex(@"ConsumerLoop\+<|WritePipeline\+<OldestFinishesWithinAsync>")]
    private static partial Regex LoopContinuation();

    [GeneratedRegex(@"WriteBatch|PartitionSlice|OffsetStore|BatchTransaction|WritePipeline|RowSize|System\.Linq")]
    private static partial Regex Batching();
}
