using System.Globalization;
using System.Text;

namespace SinkConnector.Mapping.Conversion;

/// <summary>
/// Exactness check for numeric input. <see cref="decimal"/> parsing silently rounds beyond 28-29 significant digits
/// (and turns 1e-40 into 0); Postgres would have stored those digits, so such values must be rejected, not altered.
/// </summary>
internal static class DecimalDigits
{
    /// <summary>Cheap pre-check: a token with at most 27 digits and no exponent always parses exactly.</summary>
    public static bool MayBeInexact(ReadOnlySpan<byte> token)
    {
        var digits = 0;
        foreach (var b in token)
        {
            if (b is (byte)'e' or (byte)'E')
            {
                return true;
            }

            if (b is >= (byte)'0' and <= (byte)'9')
            {
                digits++;
            }
        }

        return digits > 27;
    }

    /// <summary>Whether <paramref name="parsed"/> equals the token, after rounding the token to <paramref name="scale"/> like Postgres does.</summary>
    public static bool SameValue(ReadOnlySpan<byte> token, int? scale, decimal parsed)
    {
        if (!TryNormalize(token, out var expected))
        {
            return false;
        }

        if (scale is { } s)
        {
            expected = expected.RoundTo(-s);
        }

        var actualText = parsed.ToString(CultureInfo.InvariantCulture);
        return TryNormalize(Encoding.ASCII.GetBytes(actualText), out var actual) && actual.Equals(expected);
    }

    /// <summary>value = (-1 if Negative) * Digits * 10^Exponent, Digits without leading or trailing zeros ("" for zero).</summary>
    private readonly record struct Normalized(bool Negative, string Digits, long Exponent)
    {
        public static Normalized Create(bool negative, string digits, long exponent)
        {
            var start = 0;
            while (start < digits.Length && digits[start] == '0')
            {
                start++;
            }

            var end = digits.Length;
            while (end > start && digits[end - 1] == '0')
            {
                end--;
                exponent++;
            }

            return start == end ? new Normalized(false, "", 0) : new Normalized(negative, digits[start..end], exponent);
        }

        /// <summary>Round half away from zero so that the last kept digit is at 10^<paramref name="exponent"/>.</summary>
        public Normalized RoundTo(long exponent)
        {
            if (Exponent >= exponent)
            {
                return this;
            }

            var drop = exponent - Exponent;
            if (drop > Digits.Length)
            {
                return new Normalized(false, "", 0);
            }

            var keep = (int)(Digits.Length - drop);
            var kept = new StringBuilder(Digits, 0, keep, keep + 1);
            if (Digits[keep] >= '5')
            {
                var i = keep - 1;
                while (i >= 0 && kept[i] == '9')
                {
                    kept[i] = '0';
                    i--;
                }

                if (i >= 0)
                {
                    kept[i]++;
                }
                else
                {
                    kept.Insert(0, '1');
                }
            }

            return Create(Negative, kept.ToString(), exponent);
        }
    }

    private static bool TryNormalize(ReadOnlySpan<byte> token, out Normalized normalized)
    {
        normalized = default;
        var i = 0;
        var negative = false;
        if (i < token.Length && token[i] is (byte)'-' or (byte)'+')
        {
            negative = token[i] == '-';
            i++;
        }

        var digits = new StringBuilder(token.Length);
        long fraction = 0;
        var inFraction = false;
        for (; i < token.Length && token[i] is not ((byte)'e' or (byte)'E'); i++)
        {
            if (token[i] == '.' && !inFraction)
            {
                inFraction = true;
            }
            else if (token[i] is >= (byte)'0' and <= (byte)'9')
            {
                digits.Append((char)token[i]);
                fraction += inFraction ? 1 : 0;
            }
            else
            {
                return false;
            }
        }

        long exponent = 0;
        if (i < token.Length)
        {
            // Clamped: anything this far out is beyond decimal either way, and the clamp keeps the arithmetic in range.
            if (!long.TryParse(token[(i + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent))
            {
                return false;
            }

            exponent = Math.Clamp(exponent, -1_000_000, 1_000_000);
        }

        normalized = Normalized.Create(negative, digits.ToString(), exponent - fraction);
        return true;
    }
}
