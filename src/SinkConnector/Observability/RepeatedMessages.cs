using System.Text.RegularExpressions;

namespace SinkConnector.Observability;

/// <summary>
/// Rate limit for messages that repeat: librdkafka reports the same error again and again while a broker is away
/// (<c>1/1 brokers are down</c> every few dozen milliseconds). The first occurrence is logged; the ones after it within
/// the window are only counted, and a summary says how many there were. Thread-safe: librdkafka logs from its own threads.
/// </summary>
public sealed partial class RepeatedMessages(TimeSpan window)
{
    private readonly Dictionary<string, (DateTime Since, string Text, int Suppressed)> _seen = [];
    private readonly List<(string Text, int Repeats)> _due = [];

    public TimeSpan Window => window;

    /// <summary>
    /// True when <paramref name="text"/> is to be logged: it is new, or its window is over. Texts that differ only in
    /// numbers (<c>after 3ms</c>, a broker id) count as the same message.
    /// </summary>
    public bool Admit(string text, DateTime now)
    {
        var key = Digits().Replace(text, "#");
        lock (_seen)
        {
            if (_seen.TryGetValue(key, out var seen))
            {
                if (now - seen.Since < window)
                {
                    _seen[key] = seen with { Suppressed = seen.Suppressed + 1 };
                    return false;
                }

                if (seen.Suppressed > 0)
                {
                    _due.Add((seen.Text, seen.Suppressed));
                }
            }

            _seen[key] = (now, text, 0);
            return true;
        }
    }

    /// <summary>
    /// The messages whose window is over, with how many repeats were held back (none for a message that did not
    /// repeat); they are forgotten, so their next occurrence is logged again.
    /// </summary>
    public IReadOnlyList<(string Text, int Repeats)> TakeSummaries(DateTime now)
    {
        lock (_seen)
        {
            var over = _seen.Where(s => now - s.Value.Since >= window).ToList();
            foreach (var (key, _) in over)
            {
                _seen.Remove(key);
            }

            _due.AddRange(over.Where(s => s.Value.Suppressed > 0).Select(s => (s.Value.Text, s.Value.Suppressed)));
            var due = _due.ToList();
            _due.Clear();
            return due;
        }
    }

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();
}
