using System.Text;
using System.Text.RegularExpressions;

namespace SinkConnector.Configuration;

/// <summary>
/// A mapping's <c>topics_regex</c>: matched against whole topic names. librdkafka subscribes to it as a topic that
/// starts with <c>^</c> and matches with POSIX extended regular expressions, so only constructs both it and .NET read
/// alike are accepted; named groups <c>(?&lt;name&gt;...)</c> (for table templates) reach librdkafka as plain groups.
/// </summary>
public sealed class TopicPattern
{
    private TopicPattern(string text, string subscription, Regex regex)
    {
        Text = text;
        Subscription = subscription;
        Regex = regex;
    }

    /// <summary>The regex as written.</summary>
    public string Text { get; }

    /// <summary>What the consumer subscribes to: <c>^(...)$</c> in POSIX ERE, named groups unnamed.</summary>
    public string Subscription { get; }

    /// <summary>The regex anchored at both ends, for matching topics and reading their groups.</summary>
    public Regex Regex { get; }

    /// <summary>The match of a whole topic name, or null.</summary>
    public Match? Match(string topic) => Regex.Match(topic) is { Success: true } match ? match : null;

    public override string ToString() => Text;

    /// <summary>Parses a pattern; <paramref name="error"/> names the construct POSIX ERE cannot take, and why.</summary>
    public static bool TryParse(string text, out TopicPattern? pattern, out string? error)
    {
        pattern = null;
        error = text.Length == 0 ? "is empty" : null;
        var translated = new StringBuilder();
        for (var i = 0; error is null && i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '\\':
                    error = Escape(text, i, translated);
                    i++;
                    break;
                case '[':
                    error = Bracket(text, ref i, translated);
                    break;
                case '(' when i + 1 < text.Length && text[i + 1] == '?':
                    error = Group(text, ref i, translated);
                    break;
                case '*' or '+' or '?' or '}' when i + 1 < text.Length && text[i + 1] is '?' or '+':
                    error = $"'{text[..(i + 2)]}' uses a lazy or possessive quantifier ({c}{text[i + 1]}), which POSIX ERE does not have";
                    break;
                default:
                    translated.Append(c);
                    break;
            }
        }

        if (error is not null)
        {
            return false;
        }

        Regex regex;
        try
        {
            regex = new Regex($"^(?:{text})$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            error = $"'{text}' is not a regular expression: {e.Message}";
            return false;
        }

        pattern = new TopicPattern(text, $"^({translated})$", regex);
        return true;
    }

    private static string? Escape(string text, int i, StringBuilder translated)
    {
        if (i + 1 == text.Length)
        {
            return $"'{text}' ends with a lone backslash";
        }

        var next = text[i + 1];
        if (char.IsAsciiLetterOrDigit(next))
        {
            return $"'\\{next}' is not POSIX ERE (no \\d, \\w, \\s, \\b or back-references); write a bracket expression such as [0-9] or [a-zA-Z0-9_]";
        }

        translated.Append('\\').Append(next);
        return null;
    }

    private static string? Bracket(string text, ref int i, StringBuilder translated)
    {
        var start = i;
        var j = i + 1;
        if (j < text.Length && text[j] == '^')
        {
            j++;
        }

        // A ']' first in the list is a member, in both dialects.
        if (j < text.Length && text[j] == ']')
        {
            j++;
        }

        for (; j < text.Length && text[j] != ']'; j++)
        {
            if (text[j] == '\\')
            {
                return $"'{text[start..]}' has a backslash inside [...]: POSIX ERE reads it as a literal backslash, .NET as an escape; list the characters themselves";
            }

            if (text[j] == '[' && j + 1 < text.Length && text[j + 1] is ':' or '=' or '.')
            {
                return $"'{text[start..]}' uses a POSIX class ([:{text[(j + 2)..].Split(':')[0]}:]), which .NET reads differently; list the characters (e.g. [a-z])";
            }
        }

        if (j == text.Length)
        {
            return $"'{text[start..]}' has a '[' without its ']'";
        }

        translated.Append(text, start, j - start + 1);
        i = j;
        return null;
    }

    private static string? Group(string text, ref int i, StringBuilder translated)
    {
        // (?<name>...) and (?P<name>...) name a group for table templates; librdkafka gets a plain group.
        var rest = text[(i + 2)..];
        var prefix = rest.StartsWith("P<", StringComparison.Ordinal) ? 2 : rest.StartsWith('<') && !rest.StartsWith("<=", StringComparison.Ordinal) && !rest.StartsWith("<!", StringComparison.Ordinal) ? 1 : 0;
        if (prefix == 0)
        {
            return $"'{text[i..]}' starts a (?...) group (non-capturing, lookaround or inline option), which POSIX ERE does not have; use a plain (...) group or a named one (?<name>...)";
        }

        var close = rest.IndexOf('>', StringComparison.Ordinal);
        if (close < 0)
        {
            return $"'{text[i..]}' has a group name without its closing '>'";
        }

        if (prefix == 2)
        {
            // .NET spells it (?<name>...) only.
            return $"'{text[i..]}': write named groups as (?<name>...)";
        }

        var name = rest[1..close];
        if (name.Length > 0 && char.IsAsciiDigit(name[0]))
        {
            // .NET takes (?<2>...) as group number 2, shared with the unnamed groups' numbering: (?<2>a)(b) makes (b)
            // group 1, and (?<1>a)(b) puts both into group 1.
            return $"'{text[i..]}' numbers its group ({name}) explicitly, which collides with the numbers {{1}}, {{2}}, ... table templates give the unnamed groups; name it with a letter first, e.g. (?<part{name}>...)";
        }

        if (name.Contains('-', StringComparison.Ordinal))
        {
            return $"'{text[i..]}' is a balancing group (?<{name}>...), which POSIX ERE does not have; use a plain (...) group or a named one (?<name>...)";
        }

        translated.Append('(');
        i += 2 + close;
        return null;
    }
}
