namespace SinkConnector.Chaos;

/// <summary>
/// How the sinks reacted to the faults, counted from their saved logs: evidence that the faults reached the code
/// paths they are meant for (claims and losses from rebalances, fences from zombies, retries from Postgres outages).
/// </summary>
internal static class SinkReactions
{
    // The sink's log messages (src/SinkConnector/Engine/Log.cs), by a fragment each line of that kind contains.
    private static readonly (string Label, string Fragment)[] s_kinds =
    [
        ("claims", "] Claimed "),
        ("revokes", "] Revoked "),
        ("losses", "] Lost "),
        ("fences", "] Fenced on "),
        ("write retries", "] Batch write failed"),
        ("claim retries", "] Claiming "),
        ("deferred claims", "] Cannot claim "),
        ("backpressure pauses", "] Previous batch not committed"),
        ("slow writes", "] A batch write has been running"),
        ("grace exceeded", "] Shutdown grace exceeded"),
        ("Kafka errors", "] Kafka error: "),
        ("dead letters logged", "] Dead letter for "),
    ];

    public static string Summarize(string artifactsDirectory)
    {
        var counts = new int[s_kinds.Length];
        foreach (var file in Directory.EnumerateFiles(artifactsDirectory, "sink-*.log"))
        {
            foreach (var line in File.ReadLines(file))
            {
                for (var i = 0; i < s_kinds.Length; i++)
                {
                    if (line.Contains(s_kinds[i].Fragment, StringComparison.Ordinal))
                    {
                        counts[i]++;
                    }
                }
            }
        }

        return string.Join(", ", s_kinds.Select((k, i) => $"{k.Label} {counts[i]}"));
    }
}
