namespace SinkConnector.Benchmarks.Latency;

/// <summary>Latency percentiles in ms.</summary>
public sealed record Percentiles(double P50, double P95, double P99, double Max)
{
    public static Percentiles Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return new Percentiles(Stats.PercentileOfSorted(sorted, 50), Stats.PercentileOfSorted(sorted, 95),
            Stats.PercentileOfSorted(sorted, 99), sorted.Length > 0 ? sorted[^1] : double.NaN);
    }
}

/// <summary>One second of a run, by the CreateTime of the messages produced in it (second 0 = the first message).</summary>
public sealed record LatencySecond(
    int Second, bool Counted, int Produced, Percentiles Latency, double AckMax, int Batches, double CommitMaxMs, SecondSample? Sample,
    IReadOnlyList<SinkLogEvent> Notable);

/// <summary>One steady-rate run: what was asked, what the producer achieved, and the end-to-end latency of the counted messages.</summary>
public sealed record LatencyMeasurement(int Rate, int Run, string Kafka)
{
    public double AchievedRate { get; init; }

    /// <summary>Messages with a CreateTime after the warm-up: the ones the percentiles are over.</summary>
    public int Counted { get; init; }

    /// <summary>CreateTime until the first read that saw the row (upper bound).</summary>
    public required Percentiles Latency { get; init; }

    /// <summary>CreateTime until the last read that did not see it yet (lower bound).</summary>
    public required Percentiles LatencyLowerBound { get; init; }

    /// <summary>CreateTime until the producer's delivery report (linger, broker append, replication ack).</summary>
    public required Percentiles Ack { get; init; }

    /// <summary>The delivery report until visible (the sink's share, see <see cref="MessageLatency.AfterAck"/>).</summary>
    public required Percentiles AfterAck { get; init; }

    /// <summary>The poller's resolution over the run (ms between a read's answer and the previous read's request).</summary>
    public required Percentiles PollResolution { get; init; }

    public double PollRoundTripP50 { get; init; }

    public required Percentiles CommitMilliseconds { get; init; }

    public int Batches { get; init; }

    public long Checkpoints { get; init; }

    public IReadOnlyList<LatencySecond> Seconds { get; init; } = [];

    /// <summary>Notable sink log lines (claims, rebalances, back-pressure, warnings) from the first produced message on.</summary>
    public IReadOnlyList<SinkLogEvent> Notable { get; init; } = [];
}
