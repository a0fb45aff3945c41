using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.Conversion;

/// <summary>
/// smallint, integer, bigint. JSON numbers and numeric strings are accepted when integral ("5", 5, 5.0);
/// a fraction is the wrong type, a number beyond the column's range is out of range.
/// </summary>
internal sealed class IntegerConverter<T> : ScalarConverter<T>
    where T : struct, IBinaryInteger<T>, IMinMaxValue<T>
{
    private static readonly long s_min = long.CreateTruncating(T.MinValue);
    private static readonly long s_max = long.CreateTruncating(T.MaxValue);

    public IntegerConverter(ColumnType type) : base(type)
    {
    }

    public override bool TryJson(JsonElement element, out T value, out Failure failure)
    {
        if (element.ValueKind == JsonValueKind.Number)
        {
            // The common case, parsed straight from the UTF-8 token; 5.0 and 1e3 take the text path below.
            return element.TryGetInt64(out var number)
                ? InRange(number, out value, out failure)
                : TryText(element.GetRawText(), out value, out failure);
        }

        return TryJsonString(element, Type.SqlName, out value, out failure);
    }

    public override bool TryToken(ref Utf8JsonReader reader, out T value, out Failure failure) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number)
            ? InRange(number, out value, out failure)
            : TryStringToken(ref reader, out value, out failure);

    public override bool TryText(string text, out T value, out Failure failure)
    {
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
        {
            return InRange(number, out value, out failure);
        }

        value = default;
        if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            if (d != decimal.Truncate(d))
            {
                failure = new Failure(ConversionErrorKind.WrongType, $"{Failure.Show(text)} is not an integer ({Type.SqlName})");
                return false;
            }

            if (d >= long.MinValue && d <= long.MaxValue)
            {
                return InRange((long)d, out value, out failure);
            }
        }
        else if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            failure = Failure.WrongType(Type.SqlName, text);
            return false;
        }

        failure = Failure.OutOfRange(Type.SqlName, text);
        return false;
    }

    public override bool TryFromInt64(long number, out object? value, out Failure failure) =>
        Box(InRange(number, out var v, out failure), v, out value);

    private bool InRange(long number, out T value, out Failure failure)
    {
        if (number < s_min || number > s_max)
        {
            value = default;
            failure = Failure.OutOfRange(Type.SqlName, number.ToString(CultureInfo.InvariantCulture));
            return false;
        }

        value = T.CreateTruncating(number);
        failure = default;
        return true;
    }
}

/// <summary>
/// numeric(p,s) as <see cref="decimal"/>, parsed from the JSON token's own digits: going through double would turn
/// 0.1 into 0.1000000000000000055511151231257827 and break money columns. Like Postgres, input with more fractional
/// digits than the scale is rounded half away from zero; too many integer digits is out of range. Values that
/// <see cref="decimal"/> cannot hold exactly (beyond 28-29 significant digits) are out of range rather than silently rounded.
/// </summary>
internal sealed class NumericConverter : ScalarConverter<decimal>
{
    private readonly int? _scale;
    private readonly decimal? _limit;

    public NumericConverter(ColumnType type) : base(type)
    {
        _scale = type.Scale;
        if (type.Precision is { } precision && precision - (type.Scale ?? 0) <= 28)
        {
            _limit = Pow10(precision - (type.Scale ?? 0));
        }
    }

    public override bool TryJson(JsonElement element, out decimal value, out Failure failure)
    {
        if (element.ValueKind == JsonValueKind.Number)
        {
            return TryUtf8(JsonMarshal.GetRawUtf8Value(element), out value, out failure);
        }

        return TryJsonString(element, Type.SqlName, out value, out failure);
    }

    public override bool TryToken(ref Utf8JsonReader reader, out decimal value, out Failure failure) =>
        reader.TokenType == JsonTokenType.Number
            ? TryUtf8(reader.ValueSpan, out value, out failure)
            : TryStringToken(ref reader, out value, out failure);

    public override bool TryText(string text, out decimal value, out Failure failure)
    {
        var trimmed = text.AsSpan().Trim();
        if (trimmed.Length <= 256)
        {
            Span<byte> buffer = stackalloc byte[trimmed.Length * 3];
            var length = System.Text.Encoding.UTF8.GetBytes(trimmed, buffer);
            return TryUtf8(buffer[..length], out value, out failure);
        }

        return TryUtf8(System.Text.Encoding.UTF8.GetBytes(trimmed.ToString()), out value, out failure);
    }

    public override bool TryFromInt64(long number, out object? value, out Failure failure) =>
        Box(Fit(number, out var v, out failure), v, out value);

    /// <summary>An exact decimal (the digits a number token would have, as a value): rounded to the scale and range-checked like one.</summary>
    public bool TryFromDecimal(decimal number, out object? value, out Failure failure) =>
        Box(Fit(number, out var v, out failure), v, out value);

    private bool TryUtf8(ReadOnlySpan<byte> token, out decimal value, out Failure failure)
    {
        if (!decimal.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            var text = System.Text.Encoding.UTF8.GetString(token);
            failure = double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
                ? new Failure(ConversionErrorKind.OutOfRange, $"{Failure.Show(text)} is beyond the range of .NET decimal ({Type.SqlName})")
                : Failure.WrongType(Type.SqlName, text);
            return false;
        }

        if (!Fit(value, out value, out failure))
        {
            return false;
        }

        if (DecimalDigits.MayBeInexact(token) && !DecimalDigits.SameValue(token, _scale, value))
        {
            failure = new Failure(ConversionErrorKind.OutOfRange, $"{Failure.Show(System.Text.Encoding.UTF8.GetString(token))} has more significant digits than .NET decimal holds exactly ({Type.SqlName})");
            return false;
        }

        return true;
    }

    private bool Fit(decimal input, out decimal value, out Failure failure)
    {
        value = _scale is { } scale and <= 28 ? Math.Round(input, scale, MidpointRounding.AwayFromZero) : input;
        if (_limit is { } limit && Math.Abs(value) >= limit)
        {
            failure = Failure.OutOfRange(Type.SqlName, input.ToString(CultureInfo.InvariantCulture));
            return false;
        }

        failure = default;
        return true;
    }

    private static decimal Pow10(int exponent)
    {
        var result = 1m;
        for (var i = 0; i < exponent; i++)
        {
            result *= 10;
        }

        return result;
    }
}

/// <summary>real and double precision. "NaN", "Infinity", "-Infinity" (and "inf") as strings; a finite number too big for the type is out of range, not infinity.</summary>
internal sealed class FloatConverter<T> : ScalarConverter<T>
    where T : struct, IBinaryFloatingPointIeee754<T>
{
    public FloatConverter(ColumnType type) : base(type)
    {
    }

    public override bool TryJson(JsonElement element, out T value, out Failure failure)
    {
        if (element.ValueKind == JsonValueKind.Number)
        {
            // Parsed from the token itself, so real gets the nearest float, not a float rounded from a double.
            if (T.TryParse(JsonMarshal.GetRawUtf8Value(element), NumberStyles.Float, CultureInfo.InvariantCulture, out value) && T.IsFinite(value))
            {
                failure = default;
                return true;
            }

            failure = Failure.OutOfRange(Type.SqlName, element.GetRawText());
            return false;
        }

        return TryJsonString(element, Type.SqlName, out value, out failure);
    }

    public override bool TryToken(ref Utf8JsonReader reader, out T value, out Failure failure)
    {
        if (reader.TokenType == JsonTokenType.Number
            && T.TryParse(reader.ValueSpan, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && T.IsFinite(value))
        {
            failure = default;
            return true;
        }

        return TryStringToken(ref reader, out value, out failure);
    }

    public override bool TryText(string text, out T value, out Failure failure)
    {
        var trimmed = text.AsSpan().Trim();
        var mentionsInfinity = trimmed.Contains("inf", StringComparison.OrdinalIgnoreCase);
        if (T.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            if (T.IsFinite(value) || mentionsInfinity || T.IsNaN(value))
            {
                failure = default;
                return true;
            }

            failure = Failure.OutOfRange(Type.SqlName, text);
            return false;
        }

        if (mentionsInfinity && trimmed.TrimStart("+-").Equals("inf", StringComparison.OrdinalIgnoreCase))
        {
            value = trimmed[0] == '-' ? T.NegativeInfinity : T.PositiveInfinity;
            failure = default;
            return true;
        }

        failure = Failure.WrongType(Type.SqlName, text);
        return false;
    }

    public override bool TryFromInt64(long number, out object? value, out Failure failure)
    {
        failure = default;
        return Box(true, T.CreateTruncating(number), out value);
    }
}

/// <summary>boolean: JSON true/false, or the strings "true"/"false" in any case.</summary>
internal sealed class BooleanConverter : ScalarConverter<bool>
{
    public BooleanConverter(ColumnType type) : base(type)
    {
    }

    public override bool TryJson(JsonElement element, out bool value, out Failure failure)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.True:
            case JsonValueKind.False:
                value = element.ValueKind == JsonValueKind.True;
                failure = default;
                return true;
            default:
                return TryJsonString(element, Type.SqlName, out value, out failure);
        }
    }

    public override bool TryToken(ref Utf8JsonReader reader, out bool value, out Failure failure)
    {
        if (reader.TokenType is JsonTokenType.True or JsonTokenType.False)
        {
            value = reader.TokenType == JsonTokenType.True;
            failure = default;
            return true;
        }

        return TryStringToken(ref reader, out value, out failure);
    }

    public override bool TryText(string text, out bool value, out Failure failure)
    {
        var trimmed = text.AsSpan().Trim();
        value = trimmed.Equals("true", StringComparison.OrdinalIgnoreCase);
        if (value || trimmed.Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            failure = default;
            return true;
        }

        failure = Failure.WrongType(Type.SqlName, text);
        return false;
    }
}
