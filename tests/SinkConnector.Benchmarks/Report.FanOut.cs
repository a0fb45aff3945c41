using System.Text;

namespace SinkConnector.Benchmarks;

/// <summary>
/// Issue #24's benchmark sections: the fan-out scenario beside the single-mapping insert, and this build against a
/// baseline build (<c>--baseline-sink-dll</c>) repetition by repetition.
/// </summary>
public sealed partial class Report
{
    private IEnumerable<int> MainSizes => options.Sizes.Where(size => measurements.Any(m => m.WorkloadSize == size));

    private static double SinkCpuPerMessage(Measurement m) => (m.SinkCpu ?? 0) * 1e6 / m.Messages;

    private static double AllCpuPerMessage(Measurement m) => ((m.SinkCpu ?? 0) + m.BenchCpu + m.PostgresCpu) * 1e6 / m.Messages;

    private void AppendFanOut(StringBuilder md)
    {
        if (!measurements.Any(m => m.Scenario == Scenario.SinkFanOut))
        {
            return;
        }

        md.AppendLine();
        md.AppendLine("## Fan-out: one topic into 3 tables by a header");
        md.AppendLine();
        md.AppendLine("The same order events with a header `kind` = order, payment, shipment in turn (a third each), read by three insert " +
                      "mappings of one topic with `when: header.kind == \"...\"`, one table each; every message is one row in exactly one table " +
                      "(checked per table: rows and sum(amount)). So rows written = messages and rows/s = messages/s. Medians; ratios against the " +
                      "single-mapping insert of the same run.");
        md.AppendLine();
        md.AppendLine("| size | scenario | rows written | rows/s (= msg/s) | × insert | sink CPU µs/msg | × insert | CPU µs/msg, all processes | peak RSS |");
        md.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var size in MainSizes)
        {
            foreach (var scenario in new[] { Scenario.Sink, Scenario.SinkFanOut })
            {
                var runs = Of(scenario, size).ToList();
                if (runs.Count == 0)
                {
                    continue;
                }

                md.AppendLine(s_invariant,
                    $"| {size:N0} | {Scenario.Short(scenario)} | {size:N0} | {F(Rate(scenario, size))} | {Ratio(Rate(scenario, size), Rate(Scenario.Sink, size))} | " +
                    $"{F(SinkCpuPerMessage(scenario, size), "F1")} | {Ratio(SinkCpuPerMessage(scenario, size), SinkCpuPerMessage(Scenario.Sink, size))} | " +
                    $"{F(Stats.Median(runs.Select(AllCpuPerMessage)), "F1")} | {MiB(PeakRss(scenario, size))} |");
            }
        }
    }

    private void AppendBaseline(StringBuilder md)
    {
        if (!measurements.Any(m => Scenario.IsBaseline(m.Scenario)))
        {
            return;
        }

        md.AppendLine();
        md.AppendLine("## This build against the baseline build, repetition by repetition");
        md.AppendLine();
        var baselineSettings = options.BaselineSinkEnvironment.Count > 0 ? " with " + string.Join(", ", options.BaselineSinkEnvironment.Select(v => $"`{v.Key}={v.Value}`")) : "";
        md.Append(s_invariant, $"This build: `{options.SinkDll ?? "the build next to the benchmark"}`; baseline: `{options.BaselineSinkDll ?? "the same build"}`{baselineSettings}. ");
        md.AppendLine("Same process, Postgres, broker, " +
            "topics and config; within a repetition the two builds run back to back, the baseline first in every other repetition. " +
            "Ratios are this build ÷ baseline (rows/s above 1 and CPU below 1 favour this build). The psql `\\copy` ceiling (a\") of the same " +
            "repetition says how fast the server was at that moment; each build's rows/s ÷ it is beside it. Load = 1-minute load average before each run.");
        foreach (var size in MainSizes)
        {
            foreach (var baseline in Scenario.All.Where(Scenario.IsBaseline))
            {
                var current = Scenario.CurrentOf(baseline);
                var pairs = Of(current, size).Join(Of(baseline, size), c => c.Repetition, b => b.Repetition, (c, b) => (Current: c, Baseline: b))
                    .OrderBy(p => p.Current.Repetition).ToList();
                if (pairs.Count == 0)
                {
                    continue;
                }

                md.AppendLine();
                md.AppendLine(s_invariant, $"### {Scenario.Short(current)}, {size:N0} messages");
                md.AppendLine();
                md.AppendLine("| rep | load this / baseline | rows/s this | rows/s baseline | rows/s ratio | sink CPU µs/msg this | baseline | CPU ratio | psql \\copy rows/s | this ÷ \\copy | baseline ÷ \\copy |");
                md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
                foreach (var (c, b) in pairs)
                {
                    var psql = Of(Scenario.PsqlCopy, size).FirstOrDefault(m => m.Repetition == c.Repetition)?.RowsPerSecond;
                    md.AppendLine(s_invariant,
                        $"| {c.Repetition} | {F(c.LoadAtStart, "F1")} / {F(b.LoadAtStart, "F1")} | {F(c.RowsPerSecond)} | {F(b.RowsPerSecond)} | {Ratio(c.RowsPerSecond, b.RowsPerSecond)} | " +
                        $"{SinkCpuPerMessage(c):F1} | {SinkCpuPerMessage(b):F1} | {Ratio(SinkCpuPerMessage(c), SinkCpuPerMessage(b))} | {F(psql)} | " +
                        $"{Ratio(c.RowsPerSecond, psql)} | {Ratio(b.RowsPerSecond, psql)} |");
                }

                var rateRatios = pairs.Select(p => p.Current.RowsPerSecond / p.Baseline.RowsPerSecond).ToList();
                var cpuRatios = pairs.Select(p => SinkCpuPerMessage(p.Current) / SinkCpuPerMessage(p.Baseline)).ToList();
                md.AppendLine(s_invariant,
                    $"| median | | {F(Rate(current, size))} | {F(Rate(baseline, size))} | {Stats.Median(rateRatios):0.00}× | {F(SinkCpuPerMessage(current, size), "F1")} | " +
                    $"{F(SinkCpuPerMessage(baseline, size), "F1")} | {Stats.Median(cpuRatios):0.00}× | {F(Rate(Scenario.PsqlCopy, size))} | {Ratio(Rate(current, size), Rate(Scenario.PsqlCopy, size))} | " +
                    $"{Ratio(Rate(baseline, size), Rate(Scenario.PsqlCopy, size))} |");
            }
        }
    }
}
