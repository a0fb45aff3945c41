using System.Globalization;
using System.Text.Json;
using Google.Protobuf.Reflection;

namespace SinkConnector.Mapping.Encodings;

/// <summary>
/// Message types that stand for one value, written as the text their column types parse exactly (as
/// <see cref="AvroJsonWriter"/> writes Avro's logical types): <c>google.protobuf.Timestamp</c> ISO-8601 UTC (to the
/// microsecond, rounded as Postgres rounds), <c>Duration</c> an ISO-8601 duration (interval), the wrappers
/// (<c>Int32Value</c>, <c>StringValue</c>, ...) their value (so an absent wrapper is null), <c>Struct</c>,
/// <c>Value</c> and <c>ListValue</c> the JSON they hold, Confluent's <c>confluent.type.Decimal</c> the number's
/// exact digits and <c>google.type.Date</c> yyyy-MM-dd.
/// </summary>
internal static class ProtobufWellKnownTypes
{
    private const long NanosPerMicro = 1_000;
    private const long MicrosPerSecond = 1_000_000;

    // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: DateTime's range, which is Protobuf's Timestamp range.
    private const long MinSeconds = -62_135_596_800;
    private const long MaxSeconds = 253_402_300_799;

    public static bool TryWrite(MessageDescriptor message, ProtobufFields fields, Utf8JsonWriter json, int depth)
    {
        switch (message.FullName)
        {
            case "google.protobuf.Timestamp":
                json.WriteStringValue(Timestamp((long)fields.Number(1), (int)fields.Number(2)));
                return true;
            case "google.protobuf.Duration":
                json.WriteStringValue(Duration((long)fields.Number(1), (int)fields.Number(2)));
                return true;
            case "google.protobuf.DoubleValue" or "google.protobuf.FloatValue" or "google.protobuf.Int64Value" or "google.protobuf.UInt64Value"
                or "google.protobuf.Int32Value" or "google.protobuf.UInt32Value" or "google.protobuf.BoolValue" or "google.protobuf.StringValue"
                or "google.protobuf.BytesValue":
            case "google.protobuf.Struct" or "google.protobuf.ListValue":
                // The one field: the wrapped value, the struct's map, the list's values.
                var only = message.FindFieldByNumber(1);
                ProtobufJsonWriter.WriteField(only, fields.Of(only), json, depth);
                return true;
            case "google.protobuf.Value":
                if (message.Oneofs[0] is var kind && fields.CaseOf(kind) is { } set && set.FieldNumber != 1)
                {
                    ProtobufJsonWriter.WriteField(set, fields.Of(set), json, depth);
                }
                else
                {
                    json.WriteNullValue();
                }

                return true;
            case "confluent.type.Decimal":
                json.WriteRawValue(AvroJsonWriter.DecimalText(fields.Bytes(1).Span, (int)fields.Number(3)), skipInputValidation: true);
                return true;
            case "google.type.Date":
                json.WriteStringValue(Date((int)fields.Number(1), (int)fields.Number(2), (int)fields.Number(3)));
                return true;
            default:
                return false;
        }
    }

    internal static string Timestamp(long seconds, int nanos)
    {
        if (nanos is < 0 or > 999_999_999 || seconds is < MinSeconds or > MaxSeconds)
        {
            throw new ProtobufDataException($"google.protobuf.Timestamp {seconds} s {nanos} ns is out of range");
        }

        var micros = RoundToMicros(nanos);
        var ticks = DateTime.UnixEpoch.Ticks + (seconds * TimeSpan.TicksPerSecond) + (micros * TimeSpan.TicksPerMicrosecond);
        if (ticks > DateTime.MaxValue.Ticks)
        {
            throw new ProtobufDataException($"google.protobuf.Timestamp {seconds} s {nanos} ns is out of range");
        }

        return AvroJsonWriter.TimestampText(ticks, utc: true);
    }

    internal static string Duration(long seconds, int nanos)
    {
        // Protobuf bounds a Duration to ±10,000 years, and seconds and nanos share their sign.
        if (Math.Abs(seconds) > 315_576_000_000 || Math.Abs(nanos) > 999_999_999 || (seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0))
        {
            throw new ProtobufDataException($"google.protobuf.Duration {seconds} s {nanos} ns is not a valid duration");
        }

        var micros = (seconds * MicrosPerSecond) + (Math.Sign(nanos) * RoundToMicros(Math.Abs(nanos)));
        var sign = micros < 0 ? "-" : "";
        micros = Math.Abs(micros);
        var fraction = (micros % MicrosPerSecond).ToString("D6", CultureInfo.InvariantCulture).TrimEnd('0');
        return string.Create(CultureInfo.InvariantCulture, $"{sign}PT{micros / MicrosPerSecond}{(fraction.Length > 0 ? "." + fraction : "")}S");
    }

    private static string Date(int year, int month, int day) =>
        year is >= 1 and <= 9999 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month)
            ? new DateOnly(year, month, day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : throw new ProtobufDataException($"google.type.Date {year}-{month}-{day} is not a full calendar date");

    /// <summary>Nanoseconds (0 to 999,999,999) to microseconds, half to even as Postgres rounds.</summary>
    private static long RoundToMicros(int nanos) => (long)Math.Round(nanos / (double)NanosPerMicro, MidpointRounding.ToEven);
}
