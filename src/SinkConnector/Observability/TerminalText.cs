using System.Globalization;
using System.Text;

namespace SinkConnector.Observability;

/// <summary>
/// Text from messages (error messages quote values, names come from files) on its way to a terminal or a log line.
/// Raw, an ESC sequence in a Kafka message would recolour, move or retitle the operator's terminal, and a line break
/// would forge log lines.
/// </summary>
public static class TerminalText
{
    /// <summary>
    /// <paramref name="text"/> with every character a terminal or log reader would act on written as <c>\uXXXX</c>:
    /// control characters (C0 including tab and line breaks, DEL, C1), the bidirectional formatting characters that
    /// reorder what is shown, the Unicode line and paragraph separators, and halves of surrogate pairs. Everything
    /// else, non-ASCII text included, is kept.
    /// </summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var first = FirstUnsafe(text);
        if (first < 0)
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 16);
        escaped.Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                escaped.Append(c).Append(text[++i]);
            }
            else if (IsUnsafe(c))
            {
                escaped.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(c);
            }
        }

        return escaped.ToString();
    }

    /// <summary>Whether <see cref="Escape"/> would leave <paramref name="text"/> as it is.</summary>
    public static bool IsSafe(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return FirstUnsafe(text) < 0;
    }

    /// <summary>Whether <paramref name="c"/> is escaped by <see cref="Escape"/> (a surrogate only when it is not part of a pair).</summary>
    public static bool IsUnsafe(char c) =>
        char.IsControl(c) || char.IsSurrogate(c) || c is '\u061c' or '\u200e' or '\u200f' or '\u2028' or '\u2029'
            or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');

    private static int FirstUnsafe(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (IsUnsafe(c))
            {
                return i;
            }
        }

        return -1;
    }
}
