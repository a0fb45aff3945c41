using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.Conversion;

/// <summary>
/// numeric without precision and scale: arbitrary precision, as Postgres stores it. The number's own digits are kept
/// (never a double in between); a value <see cref="decimal"/> holds exactly stays a decimal, anything longer is
/// kept as its exact text. "NaN", "Infinity" and "-Infinity" (as strings) are Postgres' special numeric values.
/// </summary>
internal sealed class ArbitraryNumericConverter : ScalarConverter<PgNumeric>
{
    // numeric.c: NUMERIC_MAX_PRECISION-independent limits of the stored format.
    private const int MaxIntegerDigits = 131072;
    private const int MaxFractionDigits = 16383;

    public ArbitraryNumericConverter(ColumnType type) : base(type)
    {
    }

    public override bool TryJson(JsonElement element, out PgNumeric value, out Failure failure) =>
        element.ValueKind == JsonValueKind.Number
            ? TryUtf8(JsonMarshal.GetRawUtf8Value(element), out value, out failure)
            : TryJsonString(element, Type.SqlName, out value, out failure);

    public override bool TryToken(ref Utf8JsonReader reader, out PgNumeric value, out Failure failure) =>
        reader.TokenType == JsonTokenType.Number && !reader.HasValueSequence
            ? TryUtf8(reader.ValueSpan, out value, out failure)
            : TryStringToken(ref reader, out value, out failure);

    public override bool TryText(string text, out PgNumeric value, out Failure failure)
    {
        var trimmed = text.Trim();
        switch (trimmed.ToUpperInvariant())
        {
            case "NAN":
                value = PgNumeric.NaN;
                failure = default;
                return true;
            case "INFINITY" or "+INFINITY" or "INF" or "+INF":
                value = PgNumeric.PositiveInfinity;
                failure = default;
                return true;
            case "-INFINITY" or "-INF":
                value = PgNumeric.NegativeInfinity;
                failure = default;
                return true;
        }

        return TryUtf8(Encoding.UTF8.GetBytes(trimmed), out value, out failure);
    }

    public override bool TryFromInt64(long number, out object? value, out Failure failure)
    {
        failure = default;
        return Box(true, new PgNumeric(number), out value);
    }

    private bool TryUtf8(ReadOnlySpan<byte> token, out PgNumeric value, out Failure failure)
    {
        if (!DecimalDigits.MayBeInexact(token) && decimal.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var small))
        {
            value = new PgNumeric(small);
            failure = default;
            return true;
        }

        var text = Encoding.UTF8.GetString(token);
        if (!TryCanonical(text, out var canonical, out var tooLong))
        {
            value = default;
            failure = tooLong
                ? Failure.OutOfRange(Type.SqlName, text)
                : Failure.WrongType(Type.SqlName, text);
            return false;
        }

        // A value decimal holds exactly stays a decimal, so equal numbers are equal PgNumerics whatever their spelling.
        value = decimal.TryParse(canonical, NumberStyles.Number, CultureInfo.InvariantCulture, out small)
            && DecimalDigits.SameValue(Encoding.ASCII.GetBytes(canonical), null, small)
                ? new PgNumeric(small)
                : PgNumeric.FromCanonicalText(canonical);
        failure = default;
        return true;
    }

    /// <summary>
    /// <c>[-+]digits[.digits][e[-+]digits]</c> as <c>[-]digits[.digits]</c> without an exponent or leading zeros,
    /// keeping the fraction digits as written (Postgres' display scale). False when it is not a number, or
    /// <paramref name="tooLong"/> when it has more digits than Postgres stores.
    /// </summary>
    internal static bool TryCanonical(string text, out string canonical, out bool tooLong)
    {
        canonical = "";
        tooLong = false;
        var i = 0;
        var negative = false;
        if (i < text.Length && text[i] is '-' or '+')
        {
            negative = text[i] == '-';
            i++;
        }

        var integerStart = i;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        var integer = text[integerStart..i];
        var fraction = "";
        if (i < text.Length && text[i] == '.')
        {
            var fractionStart = ++i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            fraction = text[fractionStart..i];
        }

        if (integer.Length + fraction.Length == 0)
        {
            return false;
        }

        long exponent = 0;
        if (i < text.Length && text[i] is 'e' or 'E')
        {
            i++;
            var exponentStart = i;
            if (i < text.Length && text[i] is '-' or '+')
            {
                i++;
            }

            var digitsStart = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (i == digitsStart || i - digitsStart > 9)
            {
                tooLong = i - digitsStart > 9;
                return false;
            }

            exponent = long.Parse(text.AsSpan(exponentStart, i - exponentStart), CultureInfo.InvariantCulture);
        }

        if (i != text.Length)
        {
            return false;
        }

        // Move the point by the exponent: digits = integer + fraction, point after (integer.Length + exponent) of them.
        var digits = integer + fraction;
        var point = integer.Length + exponent;
        if (point > MaxIntegerDigits + digits.Length || digits.Length - point > MaxFractionDigits)
        {
            tooLong = true;
            return false;
        }

        string whole, part;
        if (point <= 0)
        {
            whole = "0";
            part = new string('0', (int)-point) + digits;
        }
        else if (point >= digits.Length)
        {
            whole = digits + new string('0', (int)(point - digits.Length));
            part = "";
        }
        else
        {
            whole = digits[..(int)point];
            part = digits[(int)point..];
        }

        whole = whole.TrimStart('0');
        if (whole.Length > MaxIntegerDigits || part.Length > MaxFractionDigits)
        {
            tooLong = true;
            return false;
        }

        var isZero = whole.Length == 0 && part.All(c => c == '0');
        canonical = (negative && !isZero ? "-" : "") + (whole.Length == 0 ? "0" : whole) + (part.Length > 0 ? "." + part : "");
        return true;
    }
}
