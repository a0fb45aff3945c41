using System.Globalization;
using System.Text.RegularExpressions;

namespace SinkConnector.Benchmarks.Latency;

/// <summary>One line of the sink's log (SimpleConsole, single line, UTC timestamps), time in ms like <see cref="LatencyTimeline"/>.</summary>
public sealed record SinkLogEvent(double AtMs, string Level, int EventId, string Text)
{
    /// <summary>The per-batch "Committed batch ... in N ms" debug line (event 1006).</summary>
    public bool IsBatchCommit => EventId == 1006;

    /// <summary>Lines that say something happened (a claim, a rebalance, back-pressure, a warning), not routine per-batch or progress lines.</summary>
    public bool IsNotable => EventId is not (1006 or 1019 or 1025);
}

public static partial class SinkLogEvents
{
    public static IReadOnlyList<SinkLogEvent> Parse(string output)
    {
        var events = new List<SinkLogEvent>();
        foreach (var line in output.Split('\n'))
        {
            var match = Line().Match(line.TrimEnd('\r'));
            if (match.Success)
            {
                var at = DateTime.ParseExact(match.Groups["ts"].Value, "yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
                events.Add(new SinkLogEvent((at - DateTime.UnixEpoch).TotalMilliseconds, match.Groups["level"].Value,
                    int.Parse(match.Groups["id"].Value, CultureInfo.InvariantCulture), match.Groups["text"].Value));
            }
        }

        return events;
    }

    /// <summary>The batch's own write-to-commit time from a "Committed batch ... in N ms" line.</summary>
    public static double? CommitMilliseconds(SinkLogEvent e) =>
        e.IsBatchCommit && CommitTime().Match(e.Text) is { Success: true } m ? double.Parse(m.Groups["ms"].Value, CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"^(?<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z (?<level>\w+): sink\[(?<id>\d+)\] (?<text>.*)$")]
    private static partial Regex Line();

    [GeneratedRegex(@" in (?<ms>\d+) ms")]
    private static partial Regex CommitTime();
}
