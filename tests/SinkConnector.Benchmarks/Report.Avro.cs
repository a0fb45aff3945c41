using System.Text;

namespace SinkConnector.Benchmarks;

public sealed partial class Report
{
    /// <summary>Avro beside JSON: the same events, table and mapping, values decoded straight into the COPY tuple.</summary>
    private void AppendAvro(StringBuilder md)
    {
        var avro = Rate(Scenario.SinkAvro, Large);
        var json = Rate(Scenario.Sink, Large);
        if (avro is null || json is null)
        {
            return;
        }

        md.AppendLine();
        md.AppendLine(s_invariant, $"## Avro beside JSON ({Large:N0} messages, mode insert)");
        md.AppendLine();
        md.AppendLine("| values | rows/s | × JSON | sink CPU µs/msg | × JSON | CPU µs/msg, all processes |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var scenario in new[] { Scenario.Sink, Scenario.SinkAvro })
        {
            md.AppendLine(s_invariant,
                $"| {Scenario.Short(scenario)} | {F(Rate(scenario, Large))} | {Ratio(Rate(scenario, Large), json)} | {F(SinkCpuPerMessage(scenario, Large), "F1")} | " +
                $"{Ratio(SinkCpuPerMessage(scenario, Large), SinkCpuPerMessage(Scenario.Sink, Large))} | {F(CpuPerMessage(scenario, Large), "F1")} |");
        }

        md.AppendLine();
        md.AppendLine("The Avro topic holds the same events with the same keys and partitions, written by Confluent's `AvroSerializer` " +
                      "(customer as a nested record, amount as decimal(12,2) bytes, created_at as timestamp-millis); the mapping is the JSON one " +
                      "with `encoding: avro`, and the sink reads each value straight into the COPY tuple (no JSON in between). The registry is a " +
                      "stand-in in the benchmark process, asked once per schema id.");
    }
}
