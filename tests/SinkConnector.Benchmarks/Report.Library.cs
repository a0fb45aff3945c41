using System.Text;

namespace SinkConnector.Benchmarks;

/// <summary>Library mode (issue #25) against (c), the EF Core consumer doing the same work, mode for mode, in the same run.</summary>
public sealed partial class Report
{
    private static readonly (string Library, string Ef)[] s_libraryPairs = [(Scenario.Library, Scenario.Ef), (Scenario.LibraryUpsert, Scenario.EfUpsert)];

    private void AppendLibraryTargets(StringBuilder md)
    {
        foreach (var (library, ef) in s_libraryPairs)
        {
            Target(md, $"{Scenario.Short(library)} ≥ 1.0× {Scenario.Short(ef)}", Rate(library, Large), Rate(ef, Large), 1.0);
        }
    }

    private void AppendLibrary(StringBuilder md)
    {
        if (!s_libraryPairs.Any(p => Of(p.Library, Large).Any()))
        {
            return;
        }

        md.AppendLine();
        md.AppendLine(s_invariant, $"## Library mode against (c) ({Large:N0}-message topic)");
        md.AppendLine();
        md.AppendLine("Library mode (SinkConnector.EntityFrameworkCore) runs in this process as (c) does: a Generic Host with `AddDbContextFactory`, " +
                      "`AddKafkaSink` and one handler doing (c)'s work on the same entities, table, JSON contract (source-generated) and batch size " +
                      "(insert: `Add` the order; upsert: a `PreloadAsync` per batch loads its orders in one query as (c) does, then each is updated or `Add`ed). Its window runs from the engine's first claim to the " +
                      "commit that reaches the same share of the topic as (c), counting that commit's whole batch; commit latency is the engine's " +
                      "\"Committed batch ... in N ms\" (from the write's start, including the wait until the loop takes the result).");
        md.AppendLine();
        md.AppendLine("| mode | scenario | messages | rows/s | × (c) | CPU µs/msg (bench / pg) | × (c) CPU | batches (messages per batch) | commit p50 / p99 |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (library, ef) in s_libraryPairs)
        {
            foreach (var scenario in new[] { ef, library }.Where(s => Of(s, Large).Any()))
            {
                var runs = Of(scenario, Large).ToList();
                var latencies = runs.SelectMany(m => m.CommitMilliseconds).ToList();
                var bench = Stats.Median(runs.Select(m => m.BenchCpu * 1e6 / m.Messages));
                var pg = Stats.Median(runs.Select(m => m.PostgresCpu * 1e6 / m.Messages));
                md.AppendLine(s_invariant,
                    $"| {(Scenario.IsUpsert(scenario) ? "upsert" : "insert")} | {Scenario.Short(scenario)} | {F(Stats.Median(runs.Select(m => (double)m.Messages)))} | " +
                    $"{F(Rate(scenario, Large))} | {Ratio(Rate(scenario, Large), Rate(ef, Large))} | {bench:F1} / {pg:F1} | " +
                    $"{Ratio(CpuPerMessage(scenario, Large), CpuPerMessage(ef, Large))} | {BatchSizes(runs)} | " +
                    $"{F(Stats.Percentile(latencies, 50))} / {F(Stats.Percentile(latencies, 99))} ms |");
            }
        }
    }

    /// <summary>
    /// Median batches per run and messages per batch: per-batch costs (the preload query, the offsets, the commit) and an
    /// upsert's in-batch de-duplication depend on the batch size, so a ratio means little without it.
    /// </summary>
    private static string BatchSizes(IReadOnlyList<Measurement> runs) =>
        string.Create(s_invariant, $"{Stats.Median(runs.Select(m => (double)m.CommitMilliseconds.Count)):F0} ({F(Stats.Median(runs.Select(m => m.Messages / (double)Math.Max(1, m.CommitMilliseconds.Count))))})");
}
