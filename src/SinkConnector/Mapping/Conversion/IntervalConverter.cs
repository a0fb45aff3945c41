using System.Globalization;
using System.Text.Json;
using NpgsqlTypes;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.Conversion;

/// <summary>
/// interval: a JSON number (or integer text) is a number of microseconds, Debezium's <c>io.debezium.time.MicroDuration</c>;
/// a string is an ISO-8601 duration or Postgres interval text (<see cref="IntervalText"/>).
/// </summary>
internal sealed class IntervalConverter : ScalarConverter<NpgsqlInterval>
{
    public IntervalConverter(ColumnType type) : base(type)
    {
    }

    public override bool TryJson(JsonElement element, out NpgsqlInterval value, out Failure failure)
    {
        if (element.ValueKind == JsonValueKind.Number)
        {
            return TryMicros(element.GetRawText(), out value, out failure);
        }

        return TryJsonString(element, Type.SqlName, out value, out failure);
    }

    public override bool TryToken(ref Utf8JsonReader reader, out NpgsqlInterval value, out Failure failure) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var micros)
            ? Ok(new NpgsqlInterval(0, 0, micros), out value, out failure)
            : TryStringToken(ref reader, out value, out failure);

    public override bool TryText(string text, out NpgsqlInterval value, out Failure failure)
    {
        if (long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var micros))
        {
            return Ok(new NpgsqlInterval(0, 0, micros), out value, out failure);
        }

        switch (IntervalText.TryParse(text, out var months, out var days, out var time))
        {
            case IntervalText.Result.Ok:
                return Ok(new NpgsqlInterval(months, days, time), out value, out failure);
            case IntervalText.Result.OutOfRange:
                value = default;
                failure = Failure.OutOfRange(Type.SqlName, text);
                return false;
            default:
                value = default;
                failure = Failure.WrongType("interval (an ISO-8601 duration such as P1DT2H, Postgres interval text, or a number of microseconds)", text);
                return false;
        }
    }

    public override bool TryFromInt64(long number, out object? value, out Failure failure) =>
        Box(Ok(new NpgsqlInterval(0, 0, number), out var v, out failure), v, out value);

    private static bool TryMicros(string number, out NpgsqlInterval value, out Failure failure)
    {
        if (long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var micros))
        {
            return Ok(new NpgsqlInterval(0, 0, micros), out value, out failure);
        }

        var integral = decimal.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == decimal.Truncate(d);
        if (integral && d is >= long.MinValue and <= long.MaxValue)
        {
            return Ok(new NpgsqlInterval(0, 0, (long)d), out value, out failure);
        }

        value = default;
        failure = integral || double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out _) && !number.Contains('.', StringComparison.Ordinal)
            ? Failure.OutOfRange("interval microseconds", number)
            : new Failure(ConversionErrorKind.WrongType, $"{Failure.Show(number)} is not a whole number of microseconds (interval)");
        return false;
    }

    private static bool Ok(NpgsqlInterval interval, out NpgsqlInterval value, out Failure failure)
    {
        value = interval;
        failure = default;
        return true;
    }
}
