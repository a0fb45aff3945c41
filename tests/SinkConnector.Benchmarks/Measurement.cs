namespace SinkConnector.Benchmarks;

/// <summary>
/// One run of one scenario. <see cref="Elapsed"/> is the throughput window: for Kafka consumers from the partition
/// assignment (the sink's first "Claimed" log line) until the last batch committed; for the in-memory ceilings from
/// the first COPY until the last commit.
/// </summary>
public sealed record Measurement(string Scenario, int Messages, int Repetition, TimeSpan Elapsed)
{
    /// <summary>The workload (topic size) the run belongs to; more than <see cref="Messages"/> when it stopped early (<c>--ef-share</c>).</summary>
    public int WorkloadSize { get; init; } = Messages;

    /// <summary>Process start until the first claim (sink only): .NET start, config, table checks, joining the group.</summary>
    public TimeSpan? Startup { get; init; }

    /// <summary>Per batch: from starting its write to its commit (the sink: its "Committed batch ... in N ms" lines).</summary>
    public IReadOnlyList<double> CommitMilliseconds { get; init; } = [];

    /// <summary>VmHWM of the sink process just before SIGTERM (sink scenarios only).</summary>
    public long? PeakRssBytes { get; init; }

    /// <summary>Messages consumed per partition, when the scenario stopped before the end of the topic (<c>--ef-share</c>).</summary>
    public IReadOnlyDictionary<int, long>? Consumed { get; init; }

    /// <summary>VmRSS of the sink process at its first claim: started, configured, connected, nothing consumed yet.</summary>
    public long? RssAtClaimBytes { get; init; }

    /// <summary>CPU seconds in the throughput window: the sink process (null for in-process scenarios).</summary>
    public double? SinkCpu { get; init; }

    /// <summary>The sink's CPU seconds in the window by thread name (librdkafka's rdk:*, .NET's thread pool, GC...).</summary>
    public IReadOnlyDictionary<string, double>? SinkThreadCpu { get; init; }

    /// <summary>CPU seconds in the window: this process (mock Kafka brokers, and the client of in-process scenarios).</summary>
    public double BenchCpu { get; init; }

    /// <summary>CPU seconds in the window: the Postgres server and all its backends.</summary>
    public double PostgresCpu { get; init; }

    /// <summary>The 1-minute load average just before the run (other work shares the machine).</summary>
    public double? LoadAtStart { get; init; }

    public double RowsPerSecond => Messages / Elapsed.TotalSeconds;

    /// <summary>
    /// Sink scenarios: the rate from the first batch's commit to the end, without the start-up inside the window (the
    /// first fetches, the first batch filled and converted by code not yet compiled for speed, the pool's first connections).
    /// </summary>
    public double? RowsPerSecondAfterFirstCommit { get; init; }
}
