using System.Numerics;
using System.Text.Json;

namespace SinkConnector.Mapping.Conversion;

/// <summary>
/// JSON may escape any UTF-16 code unit, so <c>"\ud800"</c> is valid JSON syntax but not Unicode text: a surrogate
/// escape must be a high one (<c>\ud800</c>-<c>\udbff</c>) directly followed by a low one (<c>\udc00</c>-<c>\udfff</c>).
/// Postgres text cannot hold an unpaired surrogate, jsonb rejects its escape, and System.Text.Json throws
/// (InvalidOperationException, not JsonException) when it decodes one. The sink treats a key or value with such an
/// escape like one with invalid UTF-8: the message is not valid JSON (<see cref="ConversionErrorKind.InvalidJson"/>),
/// decided where the bytes become JSON, before any converter decodes a string.
/// </summary>
internal static class UnicodeEscapes
{
    /// <summary>The index of the first escape of an unpaired surrogate in JSON text (or a JSON token's raw value), or -1.</summary>
    /// <remarks>
    /// Walks from one backslash to the next (a vectorized search), so text without escapes costs one search and an
    /// escaped backslash (<c>\\ud800</c>) is skipped as the escape it is. Only for text that already parsed as JSON:
    /// outside strings a backslash is a syntax error.
    /// </remarks>
    public static int FindUnpairedSurrogate<T>(ReadOnlySpan<T> json)
        where T : unmanaged, IBinaryInteger<T>
    {
        var backslash = T.CreateTruncating('\\');
        var i = json.IndexOf(backslash);
        while (i >= 0 && i + 1 < json.Length)
        {
            var next = i + 2;
            if (json[i + 1] == T.CreateTruncating('u'))
            {
                var unit = Hex4(json, i + 2);
                if (unit is >= 0xDC00 and <= 0xDFFF)
                {
                    return i;
                }

                if (unit is >= 0xD800 and <= 0xDBFF)
                {
                    if (i + 11 >= json.Length || json[i + 6] != backslash || json[i + 7] != T.CreateTruncating('u')
                        || Hex4(json, i + 8) is not (>= 0xDC00 and <= 0xDFFF))
                    {
                        return i;
                    }

                    next = i + 12;
                }
                else
                {
                    next = i + 6;
                }
            }

            var rest = next < json.Length ? json[next..].IndexOf(backslash) : -1;
            i = rest < 0 ? -1 : next + rest;
        }

        return -1;
    }

    /// <summary>
    /// Whether the reader's current name or string can be decoded (compared, read): an escaped token is checked for
    /// an unpaired surrogate; an unescaped one costs nothing.
    /// </summary>
    public static bool IsDecodable(ref Utf8JsonReader reader) =>
        !reader.ValueIsEscaped || FindUnpairedSurrogate(reader.ValueSpan) < 0;

    /// <summary>What a message error says about it: the escape itself and where it is.</summary>
    public static string Describe<T>(ReadOnlySpan<T> json, int at)
        where T : unmanaged, IBinaryInteger<T>
    {
        var escape = new char[Math.Min(6, json.Length - at)];
        for (var k = 0; k < escape.Length; k++)
        {
            escape[k] = (char)ushort.CreateTruncating(json[at + k]);
        }

        return $"invalid unicode escape '{new string(escape)}' at {(typeof(T) == typeof(byte) ? "byte" : "character")} {at}: an unpaired UTF-16 surrogate, which Postgres cannot store";
    }

    /// <summary>The code unit of four hex digits at <paramref name="at"/>, or -1 (past the end or not hex).</summary>
    private static int Hex4<T>(ReadOnlySpan<T> json, int at)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (at + 4 > json.Length)
        {
            return -1;
        }

        var unit = 0;
        for (var k = at; k < at + 4; k++)
        {
            var c = int.CreateTruncating(json[k]);
            var digit = c is >= '0' and <= '9' ? c - '0' : (c | 0x20) is >= 'a' and <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
            if (digit < 0)
            {
                return -1;
            }

            unit = (unit << 4) | digit;
        }

        return unit;
    }
}
