using System.Globalization;

namespace SinkConnector.Benchmarks;

/// <summary>Command-line settings of one benchmark run; see <see cref="Usage"/>.</summary>
public sealed record BenchOptions
{
    public const string Usage =
        """
        usage: eng/bench.sh [--quick] [--perf] [options]

          --quick          smoke run: 48,000 messages (and 24,000), 1 repetition
          --messages L     workload sizes: N (the large one, default 480,000; the small one is N/2), or a list
                           SMALL,LARGE[,BACKLOG...]: every scenario runs at SMALL and LARGE; at each BACKLOG size only
                           the sink, consume-only and psql \copy do (a large backlog: a real broker only, the mock keeps ~5 MB per
                           partition). The full run adds a 2,000,000 backlog on a real broker
          --kafka mock     librdkafka's mock cluster even when KAFKA_HOME names a broker (default: the broker
                           KAFKA_HOME names, started for the run; eng/bench.sh sets it like eng/test.sh)
          --overlap F      share of messages that update an earlier order id (default 0.5)
          --reps N         repetitions per scenario and size; the table shows the median (default 3)
          --batch N        rows per batch/transaction for every scenario (default 10,000 = sink default max_rows)
          --partitions N   topic partitions (default 24)
          --ef-share F     the EF Core consumers (c) and library mode stop after this share of each topic (default
                           0.25): at about 7,000 rows/s they would take most of the run; their rate does not depend
                           on the backlog
          --scenarios L    comma-separated subset of: copy, copy-upsert, consume, ef, ef-upsert, library,
                           library-upsert, multirow, multirow-upsert, sink, sink-upsert, latency (default: all)
          --no-profile     skip the in-process profile (conversion alone, COPY variants, allocations)
          --out DIR        where results/<date>.md and .svg go (default: results/ beside the project)
          --logs DIR       keep each sink run's output (Debug level) in DIR
          --sink-env K=V   an environment variable for the sink process only (repeatable), e.g. DOTNET_TieredPGO=0
          --kafka-property K=V  a librdkafka setting for every consumer (sink.yaml kafka.properties; repeatable)
          --perf           also record the sink's CPU with perf (one extra run per mode) and break it down; with
                           --no-profile only that, for the sink modes in --scenarios
          --sink-dll PATH  the sink.dll to run (eng/bench.sh passes the ReadyToRun publish docker/Dockerfile ships;
                           default: the build next to this benchmark)
          --baseline-sink-env K=V  an environment variable for the baseline scenarios only (repeatable; with no
                           --baseline-sink-dll they run this build): A/B a runtime setting, e.g. DOTNET_GCgen0size=0x2000000
          --baseline-sink-dll PATH  another build's sink.dll (e.g. an older commit's publish): adds the scenarios
                           sink-baseline and sink-upsert-baseline, run in the same repetitions, in alternating order
                           with sink and sink-upsert, and a section with their ratios per repetition
          --tag NAME       results/<date>-NAME[-quick][-broker].md instead of <date>[...].md
        """ + "\n" + Benchmarks.Latency.LatencyOptions.Usage;

    public int Messages { get; init; } = 480_000;

    /// <summary>The small workload; null: half of <see cref="Messages"/>.</summary>
    public int? SmallMessages { get; init; }

    /// <summary>Larger backlogs on which only the sink, consume-only and psql's ingest run (<see cref="Scenario.RunsOnBacklog"/>).</summary>
    public IReadOnlyList<int> BacklogSizes { get; init; } = [];

    /// <summary>Whether <c>--messages</c> named the sizes (else the full run adds <see cref="DefaultBacklog"/> on a real broker).</summary>
    public bool SizesGiven { get; init; }

    /// <summary><c>--kafka mock</c>: the mock cluster whatever the environment names.</summary>
    public bool ForceMock { get; init; }

    /// <summary>The backlog the full run adds on a real broker: large enough to show whether the sink's memory stays flat.</summary>
    public const int DefaultBacklog = 2_000_000;

    public double Overlap { get; init; } = 0.5;

    public int Repetitions { get; init; } = 3;

    public int BatchRows { get; init; } = 10_000;

    public int Partitions { get; init; } = 24;

    public double EfShare { get; init; } = 0.25;

    public bool Quick { get; init; }

    public bool Profile { get; init; } = true;

    public IReadOnlySet<string> Scenarios { get; init; } = Benchmarks.Scenario.All.Append(Benchmarks.Scenario.Latency).ToHashSet();

    public Benchmarks.Latency.LatencyOptions Latency { get; init; } = new();

    public string? OutputDirectory { get; init; }

    public string? LogDirectory { get; init; }

    public IReadOnlyDictionary<string, string> SinkEnvironment { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> KafkaProperties { get; init; } = new Dictionary<string, string>();

    public bool Perf { get; init; }

    public string? SinkDll { get; init; }

    /// <summary><c>--baseline-sink-dll</c>: the build the baseline scenarios run.</summary>
    public string? BaselineSinkDll { get; init; }

    /// <summary><c>--baseline-sink-env</c>: variables for the baseline scenarios' sink beyond <see cref="SinkEnvironment"/>.</summary>
    public IReadOnlyDictionary<string, string> BaselineSinkEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>Whether the baseline scenarios run: another build or other settings were given to compare with.</summary>
    public bool HasBaseline => BaselineSinkDll is not null || BaselineSinkEnvironment.Count > 0;

    /// <summary><c>--tag</c>: part of the results file name.</summary>
    public string? Tag { get; init; }

    /// <summary>The two workload sizes every scenario runs at: half, then the full size, to show time grows linearly and memory stays flat.</summary>
    public IReadOnlyList<int> Sizes => [SmallMessages ?? Messages / 2, Messages];

    /// <summary>Every size, the backlogs last.</summary>
    public IReadOnlyList<int> AllSizes => [.. Sizes, .. BacklogSizes];

    public bool IsBacklog(int size) => !Sizes.Contains(size) && BacklogSizes.Contains(size);

    /// <summary>The full run (no --messages, not --quick) on a real broker also runs the sink on a 2,000,000-message backlog (when a scenario runs on it).</summary>
    public BenchOptions WithDefaultBacklog(bool realBroker) =>
        SizesGiven || Quick || !realBroker || !Scenarios.Any(Benchmarks.Scenario.RunsOnBacklog) ? this : this with { BacklogSizes = [DefaultBacklog] };

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--quick" => options with { Quick = true, Messages = 48_000, Repetitions = 1, Latency = Benchmarks.Latency.LatencyOptions.Quick },
                "--messages" => WithSizes(options, Next()),
                "--kafka" => Next() is "mock" ? options with { ForceMock = true } : throw new ArgumentException("--kafka takes 'mock'"),
                "--overlap" => options with { Overlap = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--reps" => options with { Repetitions = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--batch" => options with { BatchRows = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--partitions" => options with { Partitions = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--ef-share" => options with { EfShare = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--scenarios" => options with { Scenarios = ParseScenarios(Next()) },
                "--no-profile" => options with { Profile = false },
                "--out" => options with { OutputDirectory = Next() },
                "--logs" => options with { LogDirectory = Next() },
                "--sink-env" => options with { SinkEnvironment = WithVariable(options.SinkEnvironment, Next()) },
                "--kafka-property" => options with { KafkaProperties = WithVariable(options.KafkaProperties, Next()) },
                "--perf" => options with { Perf = true },
                "--sink-dll" => options with { SinkDll = Path.GetFullPath(Next()) },
                "--baseline-sink-dll" => options with { BaselineSinkDll = Path.GetFullPath(Next()) },
                "--baseline-sink-env" => options with { BaselineSinkEnvironment = WithVariable(options.BaselineSinkEnvironment, Next()) },
                "--tag" => options with { Tag = Next() },
                var latency when Benchmarks.Latency.LatencyOptions.Accepts(latency) => options with { Latency = options.Latency.With(latency, Next()) },
                _ => throw new ArgumentException($"unknown argument '{args[i]}'"),
            };
        }

        if (options.Sizes[0] < 2 * options.Partitions || options.Sizes[0] >= options.Messages || options.BacklogSizes.Any(b => b <= options.Messages) || options.Overlap is < 0 or >= 1 || options.Repetitions < 1 || options.BatchRows < 1
            || options.EfShare is <= 0 or > 1)
        {
            throw new ArgumentException("--messages must be at least 2 per partition and in increasing order, --overlap in [0, 1), --ef-share in (0, 1], --reps and --batch at least 1");
        }

        if (!options.HasBaseline)
        {
            options = options with { Scenarios = options.Scenarios.Where(s => !Benchmarks.Scenario.IsBaseline(s)).ToHashSet() };
        }

        // Producing a backlog nothing runs on (--scenarios ef,library, say) took half a minute for nothing.
        return options.Scenarios.Any(Benchmarks.Scenario.RunsOnBacklog) ? options : options with { BacklogSizes = [] };
    }

    private static BenchOptions WithSizes(BenchOptions options, string list)
    {
        var sizes = list.Split(',', StringSplitOptions.TrimEntries).Select(size => int.Parse(size, NumberStyles.AllowThousands, CultureInfo.InvariantCulture)).ToList();
        return sizes.Count == 1
            ? options with { Messages = sizes[0], SmallMessages = null, BacklogSizes = [], SizesGiven = true }
            : options with { SmallMessages = sizes[0], Messages = sizes[1], BacklogSizes = sizes[2..], SizesGiven = true };
    }

    private static Dictionary<string, string> WithVariable(IReadOnlyDictionary<string, string> variables, string assignment)
    {
        var parts = assignment.Split('=', 2);
        return parts.Length == 2 && parts[0].Length > 0
            ? new Dictionary<string, string>(variables) { [parts[0]] = parts[1] }
            : throw new ArgumentException($"--sink-env, --baseline-sink-env and --kafka-property need NAME=VALUE, got '{assignment}'");
    }

    private static HashSet<string> ParseScenarios(string list)
    {
        var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        var unknown = names.Except(Benchmarks.Scenario.All).Except([Benchmarks.Scenario.Latency]).ToList();
        return unknown.Count == 0 ? names : throw new ArgumentException($"unknown scenario(s): {string.Join(", ", unknown)}");
    }
}
