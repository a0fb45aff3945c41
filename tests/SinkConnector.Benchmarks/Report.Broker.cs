using System.Text;
using SinkConnector.Testing;

namespace SinkConnector.Benchmarks;

/// <summary>
/// The parts of the report about the Kafka it ran on: which one, the server's raw ingest beside the COPY ceiling,
/// throughput and memory on large backlogs, and the sink's bounded prefetch against librdkafka's default.
/// </summary>
public sealed partial class Report
{
    /// <summary>Peak RSS target of the sink process, every mode and size.</summary>
    private const long RssTargetBytes = 256_000_000;

    /// <summary>The run's Kafka; null: the mock cluster (reports written before the choice existed).</summary>
    public KafkaTestCluster? Kafka { get; init; }

    private bool RealBroker => Kafka is { Mock: null };

    private string KafkaShort => Kafka switch
    {
        { LocalBroker: { } broker } => $"Apache Kafka {broker.Version} broker",
        { Mock: null } => "external Kafka broker",
        _ => "librdkafka's mock cluster",
    };

    private string KafkaSetup => RealBroker
        ? $"Kafka is {Kafka!.Description}: a single-node broker (a JVM on this machine, its log on this machine's disk; its CPU is not in the CPU columns below), " +
          "every consumer with librdkafka's defaults apart from what the sink sets itself (its prefetch bounded by `batch.max_bytes`, see below)"
        : "Kafka is librdkafka's mock cluster (3 brokers) inside the benchmark process, with `fetch.wait.max.ms: 5`, every other client setting at its default";

    private IEnumerable<int> AllSizes => options.AllSizes.Where(size => measurements.Any(m => m.WorkloadSize == size));

    private void AppendBrokerTargets(StringBuilder md)
    {
        Target(md, $"insert ≥ 0.5× psql `\\copy` CSV ceiling (a\") at {Large:N0} messages (the window holds the sink's start-up)", Rate(Scenario.Sink, Large), Rate(Scenario.PsqlCopy, Large), 0.5);
        foreach (var backlog in options.BacklogSizes.Where(AllSizes.Contains))
        {
            Target(md, $"insert ≥ 0.5× psql `\\copy` CSV ceiling (a\") on the {backlog:N0}-message backlog", Rate(Scenario.Sink, backlog), Rate(Scenario.PsqlCopy, backlog), 0.5);
        }

        var sinks = new[] { Scenario.Sink, Scenario.SinkUpsert };
        var rss = sinks.SelectMany(s => AllSizes.Select(size => PeakRss(s, size))).Max();
        md.AppendLine(s_invariant, $"| peak RSS ≤ 256 MB (sink, both modes, every size) | {MiB(rss)} | {(rss is { } r ? r <= RssTargetBytes ? "yes" : "**no**" : "–")} |");
        foreach (var backlog in options.BacklogSizes.Where(AllSizes.Contains))
        {
            foreach (var scenario in sinks)
            {
                var growth = PeakRss(scenario, backlog) is { } big && PeakRss(scenario, Large) is { } small && small > 0 ? (double)big / small : (double?)null;
                md.AppendLine(s_invariant,
                    $"| {Scenario.Short(scenario)} peak RSS flat from {Large:N0} to {backlog:N0} messages (≤ 1.10×) | {F(growth, "0.00")}× | {(growth is { } g ? g <= 1.10 ? "yes" : "**no**" : "–")} |");
            }
        }
    }

    private double? SinkCpuPerMessage(string scenario, int size) =>
        Of(scenario, size).Any() ? Stats.Median(Of(scenario, size).Select(m => (m.SinkCpu ?? 0) * 1e6 / m.Messages)) : null;

    private void AppendIngestCeilings(StringBuilder md)
    {
        var psql = Rate(Scenario.PsqlCopy, Large);
        if (psql is null)
        {
            return;
        }

        var insert = Rate(Scenario.Sink, Large);
        md.AppendLine();
        md.AppendLine(s_invariant, $"## The server's ingest ceilings at {Large:N0} messages");
        md.AppendLine();
        md.AppendLine("How fast this Postgres server takes the same rows with no client of ours: (a) binary COPY from typed values in memory, " +
                      $"one COPY and commit per batch of {options.BatchRows:N0}; (a\") `psql \\copy` of a CSV file written beforehand, all rows in one " +
                      "transaction, timed by psql's `\\timing` (COPY and COMMIT; psql's start and connection are outside). The sink parses JSON from Kafka " +
                      "and commits offsets per batch on top, so it cannot reach either; the ratio says how close it gets.");
        md.AppendLine();
        md.AppendLine("| ceiling | rows/s | sink insert × it |");
        md.AppendLine("|---|---:|---:|");
        foreach (var scenario in new[] { Scenario.Copy, Scenario.PsqlCopy })
        {
            md.AppendLine(s_invariant, $"| {Scenario.Label(scenario)} | {F(Rate(scenario, Large))} | {Ratio(insert, Rate(scenario, Large))} |");
        }

        // The window starts at the first claim, so it holds the sink's start-up too, which weighs more the smaller the
        // backlog. Ratios per repetition (the psql run just before), so a ceiling measured while the machine was busy
        // is compared with a sink run from the same moment.
        foreach (var size in AllSizes.Where(s => Of(Scenario.PsqlCopy, s).Any() && Of(Scenario.Sink, s).Any(m => m.RowsPerSecondAfterFirstCommit is not null)))
        {
            var pairs = Of(Scenario.Sink, size)
                .Join(Of(Scenario.PsqlCopy, size), m => m.Repetition, m => m.Repetition, (sink, ceiling) => (Sink: sink, Ceiling: ceiling.RowsPerSecond))
                .ToList();
            var whole = string.Join(", ", pairs.Select(p => (p.Sink.RowsPerSecond / p.Ceiling).ToString("0.00", s_invariant)));
            var steady = string.Join(", ", pairs.Select(p => p.Sink.RowsPerSecondAfterFirstCommit is { } rate ? (rate / p.Ceiling).ToString("0.00", s_invariant) : "–"));
            md.AppendLine();
            md.AppendLine(s_invariant, $"Sink insert ÷ the psql ceiling of the same repetition at {size:N0} messages: over the whole window {whole}; " +
                                       $"from the sink's first commit on (its start-up left out) {steady}.");
        }
    }

    private void AppendBacklog(StringBuilder md)
    {
        var scenarios = Scenario.All.Where(s => Scenario.RunsOnBacklog(s) && s != Scenario.PsqlCopy).Where(s => measurements.Any(m => m.Scenario == s)).ToList();
        var sizes = AllSizes.ToList();
        if (scenarios.Count == 0)
        {
            return;
        }

        md.AppendLine();
        md.AppendLine(s_invariant, $"## Throughput and memory by backlog ({KafkaShort})");
        md.AppendLine();
        md.AppendLine("The sink on a full backlog of each size (median rows/s; peak RSS = the largest `VmHWM` of the sink process over the repetitions). " +
                      "The sink bounds librdkafka's prefetch by `batch.max_bytes` (`queued.max.messages.kbytes` and `fetch.max.bytes` = a quarter of it, 4 MiB; `fetch.queue.backoff.ms` 10 ms); " +
                      "\"default prefetch\" is the same sink with librdkafka's defaults put back in `kafka.properties` (a 64 MiB queue, 50 MiB fetches, a 1 s backoff).");
        md.AppendLine();
        md.AppendLine("| scenario | " + string.Join(" | ", sizes.Select(s => $"rows/s {s:N0}")) + " | " + string.Join(" | ", sizes.Select(s => $"sink CPU µs/msg {s:N0}")) +
                      " | " + string.Join(" | ", sizes.Select(s => $"peak RSS {s:N0}")) + " |");
        md.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---:|", 3 * sizes.Count)));
        foreach (var scenario in scenarios)
        {
            md.AppendLine(s_invariant,
                $"| {Scenario.Short(scenario)} | {string.Join(" | ", sizes.Select(s => F(Rate(scenario, s))))} | " +
                $"{string.Join(" | ", sizes.Select(s => Scenario.IsSinkProcess(scenario) ? F(SinkCpuPerMessage(scenario, s), "F1") : "–"))} | " +
                $"{string.Join(" | ", sizes.Select(s => MiB(PeakRss(scenario, s))))} |");
        }

        if (scenarios.Contains(Scenario.Sink) && scenarios.Contains(Scenario.SinkDefaultPrefetch))
        {
            md.AppendLine();
            md.AppendLine("Bounded prefetch ÷ librdkafka's default prefetch, insert mode, same run:");
            md.AppendLine();
            md.AppendLine("rows/s moves with the neighbours' load; the sink's CPU per message much less.");
            md.AppendLine();
            md.AppendLine("| size | rows/s ratio | sink CPU per message ratio | peak RSS ratio | peak RSS bounded / default |");
            md.AppendLine("|---:|---:|---:|---:|---:|");
            foreach (var size in sizes)
            {
                var bounded = PeakRss(Scenario.Sink, size);
                var unbounded = PeakRss(Scenario.SinkDefaultPrefetch, size);
                md.AppendLine(s_invariant,
                    $"| {size:N0} | {Ratio(Rate(Scenario.Sink, size), Rate(Scenario.SinkDefaultPrefetch, size))} | " +
                    $"{Ratio(SinkCpuPerMessage(Scenario.Sink, size), SinkCpuPerMessage(Scenario.SinkDefaultPrefetch, size))} | {Ratio(bounded, unbounded)} | {MiB(bounded)} / {MiB(unbounded)} |");
            }
        }
    }
}
