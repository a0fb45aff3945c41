using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Unicode;
using Avro;
using AvroSchema = Avro.Schema;

namespace SinkConnector.Mapping.Encodings;

/// <summary>
/// Decodes Avro binary data with its writer schema into the JSON the mapping's converters already read, so that
/// <c>value.*</c>, <c>key.*</c> and <c>source.*</c> paths, envelopes and column types work for Avro as for JSON:
/// records become objects (nested paths), unions their branch's value, enums their symbol, maps objects, arrays arrays,
/// bytes and fixed base64 (bytea's text form). Logical types become the text their column types parse exactly:
/// decimal the number's digits (a JSON number token, never a double), timestamps ISO-8601 (UTC with Z, local ones
/// without), date yyyy-MM-dd, time HH:mm:ss.ffffff, uuid its string; Kafka Connect's and Debezium's named types
/// (connect.name) likewise.
/// </summary>
internal static class AvroJsonWriter
{
    /// <summary>Deeper data is refused: a recursive schema could otherwise nest as deep as the message is long.</summary>
    public const int MaxDepth = 64;

    /// <summary>Writes <paramref name="data"/> as JSON; throws <see cref="AvroDataException"/> when it does not match <paramref name="schema"/>.</summary>
    public static void Write(AvroSchema schema, ReadOnlySpan<byte> data, Utf8JsonWriter json)
    {
        var reader = new AvroBinaryReader(data);
        WriteValue(schema, ref reader, json, 0);
        if (reader.Remaining != 0)
        {
            throw new AvroDataException($"{reader.Remaining} bytes are left after the value: the data was not written with this schema");
        }
    }

    private static void WriteValue(AvroSchema schema, ref AvroBinaryReader reader, Utf8JsonWriter json, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new AvroDataException($"the value is nested deeper than {MaxDepth} levels");
        }

        if (ConnectTypes.Name(schema) is { } connectName && ConnectTypes.TryWrite(connectName, schema, ref reader, json))
        {
            return;
        }

        switch (schema)
        {
            case LogicalSchema logical:
                WriteLogical(logical, ref reader, json, depth);
                return;
            case RecordSchema record:
                json.WriteStartObject();
                foreach (var field in record.Fields)
                {
                    json.WritePropertyName(field.Name);
                    WriteValue(field.Schema, ref reader, json, depth + 1);
                }

                json.WriteEndObject();
                return;
            case EnumSchema enumeration:
                var symbol = reader.ReadInt();
                json.WriteStringValue(symbol >= 0 && symbol < enumeration.Symbols.Count
                    ? enumeration.Symbols[symbol]
                    : throw new AvroDataException($"{symbol} is not a symbol index of enum {enumeration.Fullname}"));
                return;
            case ArraySchema array:
                json.WriteStartArray();
                for (var count = reader.ReadBlockCount(); count != 0; count = reader.ReadBlockCount())
                {
                    for (var i = 0L; i < count; i++)
                    {
                        WriteValue(array.ItemSchema, ref reader, json, depth + 1);
                    }
                }

                json.WriteEndArray();
                return;
            case MapSchema map:
                json.WriteStartObject();
                for (var count = reader.ReadBlockCount(); count != 0; count = reader.ReadBlockCount())
                {
                    for (var i = 0L; i < count; i++)
                    {
                        json.WritePropertyName(Utf8Text(reader.ReadBytes()));
                        WriteValue(map.ValueSchema, ref reader, json, depth + 1);
                    }
                }

                json.WriteEndObject();
                return;
            case UnionSchema union:
                var branch = reader.ReadLong();
                WriteValue(branch >= 0 && branch < union.Count ? union[(int)branch] : throw new AvroDataException($"{branch} is not a branch of union {union}"), ref reader, json, depth + 1);
                return;
            case FixedSchema fixedSchema:
                json.WriteBase64StringValue(reader.ReadFixed(fixedSchema.Size));
                return;
            default:
                WritePrimitive(schema.Tag, ref reader, json);
                return;
        }
    }

    private static void WritePrimitive(AvroSchema.Type type, ref AvroBinaryReader reader, Utf8JsonWriter json)
    {
        switch (type)
        {
            case AvroSchema.Type.Null:
                json.WriteNullValue();
                break;
            case AvroSchema.Type.Boolean:
                json.WriteBooleanValue(reader.ReadBoolean());
                break;
            case AvroSchema.Type.Int:
            case AvroSchema.Type.Long:
                json.WriteNumberValue(reader.ReadLong());
                break;
            case AvroSchema.Type.Float:
                // Its own shortest text (1.1, not the double 1.100000023841858).
                var single = reader.ReadFloat();
                if (float.IsFinite(single))
                {
                    json.WriteRawValue(single.ToString("R", CultureInfo.InvariantCulture), skipInputValidation: true);
                }
                else
                {
                    WriteFloating(single, json);
                }

                break;
            case AvroSchema.Type.Double:
                WriteFloating(reader.ReadDouble(), json);
                break;
            case AvroSchema.Type.Bytes:
                json.WriteBase64StringValue(reader.ReadBytes());
                break;
            case AvroSchema.Type.String:
                json.WriteStringValue(Utf8Text(reader.ReadBytes()));
                break;
            default:
                throw new AvroDataException($"unsupported Avro type {type}");
        }
    }

    private static void WriteLogical(LogicalSchema logical, ref AvroBinaryReader reader, Utf8JsonWriter json, int depth)
    {
        var baseSchema = logical.BaseSchema;
        switch (logical.LogicalTypeName)
        {
            case "decimal":
                var unscaled = baseSchema is FixedSchema f ? reader.ReadFixed(f.Size) : reader.ReadBytes();
                json.WriteRawValue(DecimalText(unscaled, IntProperty(logical, "scale") ?? 0), skipInputValidation: true);
                return;
            case "date":
                json.WriteStringValue(Date(reader.ReadInt()));
                return;
            case "time-millis":
                json.WriteStringValue(Time(reader.ReadInt() * TimeSpan.TicksPerMillisecond));
                return;
            case "time-micros":
                json.WriteStringValue(Time(reader.ReadLong() * TimeSpan.TicksPerMicrosecond));
                return;
            case "timestamp-millis":
                json.WriteStringValue(Timestamp(reader.ReadLong(), TimeSpan.TicksPerMillisecond, utc: true));
                return;
            case "timestamp-micros":
                json.WriteStringValue(Timestamp(reader.ReadLong(), TimeSpan.TicksPerMicrosecond, utc: true));
                return;
            case "local-timestamp-millis":
                json.WriteStringValue(Timestamp(reader.ReadLong(), TimeSpan.TicksPerMillisecond, utc: false));
                return;
            case "local-timestamp-micros":
                json.WriteStringValue(Timestamp(reader.ReadLong(), TimeSpan.TicksPerMicrosecond, utc: false));
                return;
            case "uuid" when baseSchema is FixedSchema { Size: 16 }:
                json.WriteStringValue(new Guid(reader.ReadFixed(16), bigEndian: true).ToString());
                return;
            default:
                // uuid on a string, and logical types the sink does not interpret: the underlying value.
                WriteValue(baseSchema, ref reader, json, depth + 1);
                return;
        }
    }

    /// <summary>Avro decimal: the two's-complement big-endian unscaled value, as exact decimal digits.</summary>
    public static string DecimalText(ReadOnlySpan<byte> unscaled, int scale)
    {
        var number = unscaled.IsEmpty ? BigInteger.Zero : new BigInteger(unscaled, isUnsigned: false, isBigEndian: true);
        var digits = BigInteger.Abs(number).ToString(CultureInfo.InvariantCulture);
        var sign = number.Sign < 0 ? "-" : "";
        if (scale <= 0)
        {
            return sign + digits + new string('0', -scale);
        }

        digits = digits.PadLeft(scale + 1, '0');
        return $"{sign}{digits[..^scale]}.{digits[^scale..]}";
    }

    internal static string Date(long days) =>
        DateOnly.FromDayNumber(DayNumber(days)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    internal static string Time(long ticks) =>
        new TimeOnly(TimeTicks(ticks)).ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture).TrimEnd('.');

    internal static string Timestamp(long value, long ticksPerUnit, bool utc) => TimestampText(TimestampTicks(value, ticksPerUnit), utc);

    /// <summary>The DateTime ticks of <paramref name="value"/> units since the epoch; throws when out of DateTime's range.</summary>
    internal static long TimestampTicks(long value, long ticksPerUnit)
    {
        var epoch = DateTime.UnixEpoch.Ticks;
        if (value > (DateTime.MaxValue.Ticks - epoch) / ticksPerUnit || value < -epoch / ticksPerUnit)
        {
            throw new AvroDataException($"timestamp {value} is out of range");
        }

        return epoch + (value * ticksPerUnit);
    }

    internal static string TimestampText(long ticks, bool utc)
    {
        var time = new DateTime(ticks, DateTimeKind.Utc);
        return time.ToString(utc ? "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'" : "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture).Replace(".Z", "Z", StringComparison.Ordinal).TrimEnd('.');
    }

    /// <summary>Days since 1970-01-01 as a day number; throws when out of DateOnly's range.</summary>
    internal static int DayNumber(long days)
    {
        var epochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
        return days + epochDay >= DateOnly.MinValue.DayNumber && days + epochDay <= DateOnly.MaxValue.DayNumber
            ? (int)(days + epochDay)
            : throw new AvroDataException($"date {days} days from 1970-01-01 is out of range");
    }

    /// <summary>A time of day in ticks; throws when not within one day.</summary>
    internal static long TimeTicks(long ticks) =>
        ticks >= 0 && ticks < TimeSpan.TicksPerDay
            ? ticks
            : throw new AvroDataException($"time of day {ticks / TimeSpan.TicksPerMicrosecond} µs is out of range");

    internal static int? IntProperty(AvroSchema schema, string name) =>
        schema.GetProperty(name) is { } text && int.TryParse(text.Trim('"'), CultureInfo.InvariantCulture, out var value) ? value : null;

    private static void WriteFloating(double value, Utf8JsonWriter json)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumberValue(value);
        }
        else
        {
            // JSON has no NaN or infinity; Postgres real and double precision read these words.
            json.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    private static string Utf8Text(ReadOnlySpan<byte> bytes) =>
        Utf8.IsValid(bytes) ? System.Text.Encoding.UTF8.GetString(bytes) : throw new AvroDataException("a string is not valid UTF-8");
}
