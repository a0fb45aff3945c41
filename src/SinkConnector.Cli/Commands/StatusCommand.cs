using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using SinkConnector.Configuration;
using SinkConnector.Kafka;
using SinkConnector.Operations;
using SinkConnector.Schema;

namespace SinkConnector.Cli.Commands;

public static class StatusCommand
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        WriteIndented = true,
    };

    public static Command Create()
    {
        var config = CliContext.ConfigOption();
        var json = new Option<bool>("--json")
        {
            Description = "Print JSON: { \"partitions\": [...], \"totals\": {...} } with snake_case field names.",
        };
        var command = new Command(
            "status",
            "One row per partition of every mapped topic (all partitions Kafka has, also those never claimed): stored next "
            + "offset, epoch, owner and last update from <schema>.offsets for the configured group, Kafka's low and high "
            + "watermarks, and the lag; then totals. Lag = high watermark - stored next offset; for a partition without a "
            + "stored offset it is what the sink would consume on claiming it: high - low with auto_offset_reset: earliest, "
            + "0 with latest. Read-only: never joins the sink's consumer group, so it works while sinks run and while they "
            + "are stopped. Exit code 0; 1 if Kafka or Postgres cannot be read.")
        {
            config, json,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, config, async (sinkConfig, ct) =>
        {
            await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
            using var kafka = new TopicInspector(sinkConfig.Connector);
            var report = await SinkStatus.ReadAsync(sinkConfig, database, kafka, ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, s_json));
            }
            else
            {
                foreach (var line in Table(report))
                {
                    Console.WriteLine(line);
                }
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    /// <summary>The human-readable report: a table with the numbers first and the long owner last, totals, legend.</summary>
    public static IEnumerable<string> Table(SinkStatusReport report)
    {
        string[] header = ["topic", "partition", "mapping", "next_offset", "low", "high", "lag", "warning", "epoch", "updated_at", "owner"];
        bool[] numeric = [false, true, false, true, true, true, true, false, true, false, false];
        var rows = report.Partitions.Select(p => new[]
        {
            p.Topic, Number(p.Partition), p.Mapping, Number(p.NextOffset), Number(p.LowWatermark), Number(p.HighWatermark),
            Number(p.Lag), Flag(p.Warning), Number(p.Epoch),
            (p.UpdatedAt is { } updated ? CliTime.Text(updated) : "-"), p.Owner ?? "-",
        }).ToList();
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        foreach (var row in rows.Prepend(header))
        {
            yield return string.Join("  ", row.Select((cell, i) => numeric[i] ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]))).TrimEnd();
        }

        var totals = report.Totals;
        yield return "";
        yield return $"totals: {totals.Partitions} partitions, lag {Number(totals.Lag)}, {totals.NeverCommitted} never committed, "
            + $"{totals.Warnings} with warnings (group {report.GroupId}, auto_offset_reset: {Reset(report.AutoOffsetReset)})";
        yield return "lag = high - next_offset; a partition without a stored next offset ('-') counts "
            + (report.AutoOffsetReset == AutoOffsetReset.Earliest
                ? "high - low (auto_offset_reset: earliest: the sink would start at the low watermark)"
                : "0 (auto_offset_reset: latest: the sink would start at the high watermark)");
        yield return "epoch '-': never claimed; updated_at: the row's last claim, commit or offsets reset";
        foreach (var p in report.Partitions.Where(p => p.Warning is not null))
        {
            yield return Explain(p);
        }
    }

    /// <summary>What a flagged partition means and what to do, one line each (also on a terminal that cuts the table).</summary>
    public static string Explain(PartitionStatus p) => p.Warning switch
    {
        OffsetWarning.BeyondHighWatermark =>
            $"WARNING {p.Topic}[{p.Partition}]: stored next offset {p.NextOffset} is beyond the high watermark {p.HighWatermark}: "
            + $"the sink skips the messages Kafka writes before offset {p.NextOffset}. If that offset is wrong: "
            + $"sink offsets reset --topic {p.Topic} --partition {p.Partition} --to-offset N (N <= {p.HighWatermark}) or --to-latest",
        OffsetWarning.BelowLowWatermark =>
            $"WARNING {p.Topic}[{p.Partition}]: stored next offset {p.NextOffset} is below the low watermark {p.LowWatermark}: "
            + $"messages {p.NextOffset} to {p.LowWatermark - 1} were deleted by retention before the sink copied them; "
            + $"it resumes at {p.LowWatermark}",
        _ => "",
    };

    private static string Flag(OffsetWarning? warning) => warning switch
    {
        OffsetWarning.BeyondHighWatermark => "beyond_high",
        OffsetWarning.BelowLowWatermark => "below_low",
        _ => "-",
    };

    private static string Number(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string Reset(AutoOffsetReset reset) => reset == AutoOffsetReset.Earliest ? "earliest" : "latest";
}
