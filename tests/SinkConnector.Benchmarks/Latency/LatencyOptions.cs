using System.Globalization;

namespace SinkConnector.Benchmarks.Latency;

/// <summary>Settings of the steady-rate latency scenario (<c>--scenarios latency</c>); see <see cref="Usage"/>.</summary>
public sealed record LatencyOptions
{
    public const string Usage =
        """
          --rates L        steady-rate latency: produce rates in messages/s, comma-separated (default 10000,2000)
          --duration S     steady-rate latency: measured seconds per run, after the warm-up (default 60; --quick 20)
          --warmup S       steady-rate latency: seconds produced first and not counted (default 5; --quick 2)
          --latency-runs N steady-rate latency: runs per rate, each its own row (default 2; --quick 1)
          --poll-ms N      steady-rate latency: pause between two reads of sink.offsets (default 5)
        """;

    public IReadOnlyList<int> Rates { get; init; } = [10_000, 2_000];

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(5);

    public int Runs { get; init; } = 2;

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>The batch latency limit the sink runs with in this scenario (issue #22: 100 ms).</summary>
    public TimeSpan MaxLatency { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The producer must reach at least this share of the asked rate, or the run fails.</summary>
    public const double MinimumRateShare = 0.95;

    public static LatencyOptions Quick { get; } = new() { Duration = TimeSpan.FromSeconds(20), WarmUp = TimeSpan.FromSeconds(2), Runs = 1 };

    public static bool Accepts(string argument) => argument is "--rates" or "--duration" or "--warmup" or "--latency-runs" or "--poll-ms";

    /// <summary>This with one command-line setting applied; <paramref name="argument"/> is one that <see cref="Accepts"/>.</summary>
    public LatencyOptions With(string argument, string value)
    {
        var options = argument switch
        {
            "--rates" => this with { Rates = [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Integer)] },
            "--duration" => this with { Duration = TimeSpan.FromSeconds(Integer(value)) },
            "--warmup" => this with { WarmUp = TimeSpan.FromSeconds(Integer(value)) },
            "--latency-runs" => this with { Runs = Integer(value) },
            "--poll-ms" => this with { PollInterval = TimeSpan.FromMilliseconds(Integer(value)) },
            _ => throw new ArgumentException($"unknown argument '{argument}'", nameof(argument)),
        };
        return options.Rates.Count > 0 && options.Rates.All(r => r > 0) && options.Duration > TimeSpan.Zero && options.WarmUp >= TimeSpan.Zero
               && options.Runs > 0 && options.PollInterval >= TimeSpan.Zero
            ? options
            : throw new ArgumentException("--rates need positive numbers, --duration and --latency-runs at least 1, --warmup and --poll-ms at least 0");
    }

    private static int Integer(string value) => int.Parse(value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
}
