using System.Buffers.Text;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.Conversion;

internal static class TemporalRules
{
    private static readonly long s_minMillis = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long s_maxMillis = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    // ISO-8601 as producers write it: 'T' or a space (Postgres' own text output), optional seconds and fraction,
    // and an offset as Z, +hh:mm, +hhmm or +hh. "K" also matches no offset at all.
    private static readonly string[] s_isoFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzz",
        "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFzz",
        "yyyy-MM-dd HH:mmK",
        "yyyy-MM-dd",
    ];

    public static bool TryFromEpochMillis(long milliseconds, out DateTime utc)
    {
        utc = milliseconds >= s_minMillis && milliseconds <= s_maxMillis
            ? DateTime.UnixEpoch.AddMilliseconds(milliseconds)
            : default;
        return milliseconds >= s_minMillis && milliseconds <= s_maxMillis;
    }

    /// <summary>
    /// An ISO-8601 timestamp as UTC. Text without an offset is taken as UTC: the sink runs in containers whose local
    /// zone is arbitrary, and a result that depended on it would differ between replicas.
    /// </summary>
    public static bool TryParseIso(string text, out DateTime utc)
    {
        var trimmed = text.Trim();
        if (DateTimeOffset.TryParseExact(TrimFraction(trimmed), s_isoFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            // Offsets are whole minutes: the UTC time's part of a second is the text's fraction.
            var ticks = RoundFraction(trimmed, parsed.UtcDateTime.Ticks);
            utc = ticks <= DateTime.MaxValue.Ticks ? new DateTime(ticks, DateTimeKind.Utc) : default;
            return ticks <= DateTime.MaxValue.Ticks;
        }

        utc = default;
        return false;
    }

    /// <summary>
    /// A fraction of a second (its '.' and digits) in microseconds, rounded as Postgres rounds it: it reads the
    /// fraction with strtod and keeps rint(fraction * 1e6) (datetime.c, ParseFractionalSecond), so .1234567 is
    /// .123457, .9999995 carries into the next second, and a half that is exact in binary goes to the even microsecond
    /// (.0000005 is 0, .0000015 and .0000025 are 2; checked against PostgreSQL 15). .NET's double parsing is correctly
    /// rounded like glibc's strtod, and Math.Round rounds half to even like rint. Up to six digits are exact.
    /// </summary>
    public static long FractionMicros(ReadOnlySpan<byte> fraction) =>
        fraction.Length <= 7 ? ExactMicros(fraction) : RoundMicros(double.Parse(fraction, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture));

    /// <inheritdoc cref="FractionMicros(ReadOnlySpan{byte})"/>
    public static long FractionMicros(ReadOnlySpan<char> fraction) =>
        fraction.Length <= 7 ? ExactMicros(fraction) : RoundMicros(double.Parse(fraction, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture));

    private static long RoundMicros(double fraction) => (long)Math.Round(fraction * 1_000_000, MidpointRounding.ToEven);

    private static long ExactMicros<T>(ReadOnlySpan<T> fraction)
        where T : unmanaged, IBinaryInteger<T>
    {
        long micros = 0;
        for (var i = 1; i < 7; i++)
        {
            micros = (micros * 10) + (i < fraction.Length ? int.CreateTruncating(fraction[i]) - '0' : 0);
        }

        return micros;
    }

    /// <summary>Where the digits after the '.' at <paramref name="dot"/> end.</summary>
    private static int FractionEnd(string text, int dot)
    {
        var end = dot + 1;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }

        return end;
    }

    /// <summary>
    /// The shape nearly every producer writes, read straight from the JSON token's UTF-8 bytes:
    /// <c>yyyy-MM-ddTHH:mm:ss</c> (or a space for the T), an optional fraction, then <c>Z</c>, <c>±hh:mm</c> or nothing.
    /// False for anything else, which <see cref="TryParseIso"/> then decides: a shortcut past the culture-aware parser
    /// (it was about a tenth of a message's conversion in the benchmark's profile), never a different answer (TemporalRulesTests).
    /// </summary>
    public static bool TryParseRfc3339(ReadOnlySpan<byte> text, out DateTime utc)
    {
        utc = default;
        if (text.Length < 19 || text[4] != '-' || text[7] != '-' || text[10] is not ((byte)'T' or (byte)' ') || text[13] != ':' || text[16] != ':'
            || !TryDigits(text.Slice(0, 4), out var year) || !TryDigits(text.Slice(5, 2), out var month) || !TryDigits(text.Slice(8, 2), out var day)
            || !TryDigits(text.Slice(11, 2), out var hour) || !TryDigits(text.Slice(14, 2), out var minute) || !TryDigits(text.Slice(17, 2), out var second)
            || year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        var at = 19;
        long micros = 0;
        if (at < text.Length && text[at] == '.')
        {
            var dot = at++;
            while (at < text.Length && char.IsAsciiDigit((char)text[at]))
            {
                at++;
            }

            if (at == dot + 1)
            {
                return false;
            }

            micros = FractionMicros(text[dot..at]);
        }

        if (!TryZone(text[at..], out var offset))
        {
            return false;
        }

        var ticks = new DateTime(year, month, day, hour, minute, second).Ticks + (micros * 10) - offset;
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
        {
            return false;
        }

        utc = new DateTime(ticks, DateTimeKind.Utc);
        return true;
    }

    /// <summary>Nothing or Z (UTC), or ±hh:mm within the ±14:00 DateTimeOffset allows; as ticks to subtract.</summary>
    private static bool TryZone(ReadOnlySpan<byte> zone, out long offset)
    {
        offset = 0;
        if (zone.IsEmpty || zone is [(byte)'Z'])
        {
            return true;
        }

        if (zone is not [(byte)'+' or (byte)'-', _, _, (byte)':', _, _]
            || !TryDigits(zone.Slice(1, 2), out var hours) || !TryDigits(zone.Slice(4, 2), out var minutes)
            || minutes > 59 || (hours * 60) + minutes > 14 * 60)
        {
            return false;
        }

        offset = (zone[0] == '-' ? -1 : 1) * ((hours * 60) + minutes) * TimeSpan.TicksPerMinute;
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<byte> text, out int number)
    {
        number = 0;
        foreach (var b in text)
        {
            if (!char.IsAsciiDigit((char)b))
            {
                return false;
            }

            number = (number * 10) + (b - '0');
        }

        return true;
    }

    /// <summary>
    /// .NET parses at most 7 fractional digits; Debezium and Java write nanoseconds. Only for the shape of the parse:
    /// the callers then replace the fraction by <see cref="FractionMicros(ReadOnlySpan{char})"/> of all its digits.
    /// </summary>
    public static string TrimFraction(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
        {
            return text;
        }

        var end = FractionEnd(text, dot);
        return end - dot - 1 <= 7 ? text : string.Concat(text.AsSpan(0, dot + 8), text.AsSpan(end));
    }

    /// <summary>
    /// <paramref name="ticks"/> parsed from <paramref name="text"/> (with <see cref="TrimFraction"/>), with the part of
    /// a second replaced by the text's whole fraction rounded as Postgres does, so it may carry into the next second,
    /// day, or past the end of the type. The fraction is the text's first '.': the only one the parse formats allow.
    /// </summary>
    public static long RoundFraction(string text, long ticks)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? ticks : ticks - (ticks % TimeSpan.TicksPerSecond) + (FractionMicros(text.AsSpan(dot, FractionEnd(text, dot) - dot)) * 10);
    }
}

/// <summary>
/// timestamptz (Kind Utc) and timestamp (Kind Unspecified, the UTC wall time): ISO-8601 text or epoch milliseconds
/// (JSON number or numeric string). For timestamp, an input with an offset is converted to UTC rather than rejected,
/// so the same producer can feed both column kinds and every replica stores the same wall time.
/// </summary>
internal sealed class TimestampConverter : ScalarConverter<DateTime>
{
    private readonly DateTimeKind _kind;

    public TimestampConverter(ColumnType type) : base(type) =>
        _kind = type.Scalar == ScalarType.TimestampTz ? DateTimeKind.Utc : DateTimeKind.Unspecified;

    public override bool TryJson(JsonElement element, out DateTime value, out Failure failure)
    {
        if (element.ValueKind == JsonValueKind.Number)
        {
            if (element.TryGetInt64(out var millis))
            {
                return FromMillis(millis, out value, out failure);
            }

            value = default;
            failure = Failure.WrongType($"{Type.SqlName} (epoch milliseconds must be an integer)", element);
            return false;
        }

        return TryJsonString(element, Type.SqlName, out value, out failure);
    }

    public override bool TryToken(ref Utf8JsonReader reader, out DateTime value, out Failure failure)
    {
        if (IsPlainString(ref reader, out var text) && TemporalRules.TryParseRfc3339(text, out var utc))
        {
            value = DateTime.SpecifyKind(utc, _kind);
            failure = default;
            return true;
        }

        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var millis)
            ? FromMillis(millis, out value, out failure)
            : TryStringToken(ref reader, out value, out failure);
    }

    public override bool TryText(string text, out DateTime value, out Failure failure)
    {
        if (long.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var millis))
        {
            return FromMillis(millis, out value, out failure);
        }

        if (TemporalRules.TryParseIso(text, out var utc))
        {
            value = DateTime.SpecifyKind(utc, _kind);
            failure = default;
            return true;
        }

        value = default;
        failure = Failure.WrongType($"{Type.SqlName} (ISO-8601 or epoch milliseconds)", text);
        return false;
    }

    public override bool TryFromInt64(long number, out object? value, out Failure failure) =>
        Box(FromMillis(number, out var v, out failure), v, out value);

    private bool FromMillis(long millis, out DateTime value, out Failure failure)
    {
        if (TemporalRules.TryFromEpochMillis(millis, out var utc))
        {
            value = DateTime.SpecifyKind(utc, _kind);
            failure = default;
            return true;
        }

        value = default;
        failure = Failure.OutOfRange($"{Type.SqlName} (as epoch milliseconds)", millis.ToString(CultureInfo.InvariantCulture));
        return false;
    }
}

/// <summary>date: "yyyy-MM-dd", or a JSON integer counting days since 1970-01-01 (Debezium and Kafka Connect's Date).</summary>
internal sealed class DateConverter : ScalarConverter<DateOnly>
{
    private static readonly int s_epochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    public DateConverter(ColumnType type) : base(type)
    {
    }

    public override bool TryJson(JsonElement element, out DateOnly value, out Failure failure)
    {
        if (element.ValueKind == JsonValueKind.Number)
        {
            if (element.TryGetInt32(out var days)
                && (long)days + s_epochDay >= DateOnly.MinValue.DayNumber
                && (long)days + s_epochDay <= DateOnly.MaxValue.DayNumber)
            {
                value = DateOnly.FromDayNumber(days + s_epochDay);
                failure = default;
                return true;
            }

            value = default;
            failure = Failure.OutOfRange($"{Type.SqlName} (days since 1970-01-01)", element.GetRawText());
            return false;
        }

        return TryJsonString(element, Type.SqlName, out value, out failure);
    }

    public override bool TryText(string text, out DateOnly value, out Failure failure)
    {
        if (DateOnly.TryParseExact(text.AsSpan().Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out value))
        {
            failure = default;
            return true;
        }

        failure = Failure.WrongType($"{Type.SqlName} (yyyy-MM-dd)", text);
        return false;
    }

    public override bool TryFromEpochMillis(long milliseconds, out object? value, out Failure failure)
    {
        if (TemporalRules.TryFromEpochMillis(milliseconds, out var utc))
        {
            failure = default;
            return Box(true, DateOnly.FromDateTime(utc), out value);
        }

        value = null;
        failure = Failure.OutOfRange(Type.SqlName, milliseconds.ToString(CultureInfo.InvariantCulture));
        return false;
    }
}

/// <summary>time: "HH:mm:ss[.fraction]" (any number of digits, rounded to microseconds like Postgres) or "HH:mm".</summary>
internal sealed class TimeConverter : ScalarConverter<TimeOnly>
{
    private static readonly string[] s_formats = ["HH:mm:ss.FFFFFFF", "HH:mm"];

    public TimeConverter(ColumnType type) : base(type)
    {
    }

    public override bool TryJson(JsonElement element, out TimeOnly value, out Failure failure) =>
        TryJsonString(element, Type.SqlName, out value, out failure);

    public override bool TryText(string text, out TimeOnly value, out Failure failure)
    {
        var trimmed = text.Trim();
        if (TimeOnly.TryParseExact(TemporalRules.TrimFraction(trimmed), s_formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out value))
        {
            var ticks = TemporalRules.RoundFraction(trimmed, value.Ticks);
            if (ticks >= TimeSpan.TicksPerDay)
            {
                // Postgres stores 24:00:00; TimeOnly, and so this sink, cannot.
                value = default;
                failure = Failure.OutOfRange($"{Type.SqlName} (it rounds to 24:00:00, which the sink cannot write)", text);
                return false;
            }

            value = new TimeOnly(ticks);
            failure = default;
            return true;
        }

        failure = Failure.WrongType($"{Type.SqlName} (HH:mm:ss[.fffffff])", text);
        return false;
    }

    public override bool TryFromEpochMillis(long milliseconds, out object? value, out Failure failure)
    {
        if (TemporalRules.TryFromEpochMillis(milliseconds, out var utc))
        {
            failure = default;
            return Box(true, TimeOnly.FromDateTime(utc), out value);
        }

        value = null;
        failure = Failure.OutOfRange(Type.SqlName, milliseconds.ToString(CultureInfo.InvariantCulture));
        return false;
    }
}

/// <summary>uuid: any form <see cref="Guid.TryParse(string, out Guid)"/> accepts (hyphenated, braces, 32 hex digits).</summary>
internal sealed class UuidConverter : ScalarConverter<Guid>
{
    public UuidConverter(ColumnType type) : base(type)
    {
    }

    public override bool TryJson(JsonElement element, out Guid value, out Failure failure) =>
        TryJsonString(element, Type.SqlName, out value, out failure);

    /// <summary>The canonical 8-4-4-4-12 form straight from the UTF-8 token; any other form Guid.TryParse accepts goes through text.</summary>
    public override bool TryToken(ref Utf8JsonReader reader, out Guid value, out Failure failure)
    {
        if (IsPlainString(ref reader, out var text) && Utf8Parser.TryParse(text, out value, out var consumed, 'D') && consumed == text.Length)
        {
            failure = default;
            return true;
        }

        return TryStringToken(ref reader, out value, out failure);
    }

    public override bool TryText(string text, out Guid value, out Failure failure)
    {
        if (Guid.TryParse(text, out value))
        {
            failure = default;
            return true;
        }

        failure = Failure.WrongType(Type.SqlName, text);
        return false;
    }
}
