using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using SinkConnector.Mapping.Conversion;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.Encodings;

/// <summary>
/// An <see cref="AvroLeaf"/> into a column's value, giving exactly what the column's converter gives for the JSON token
/// <see cref="AvroJsonWriter"/> writes for it: typed where the two are provably the same (an integer into bigint,
/// epoch ticks into timestamptz, an unscaled decimal into numeric), else through the token's text and the converter's
/// text rules (a JSON string is read as its text by every scalar converter), and json/jsonb/arrays from the value's
/// JSON text. False when the leaf does not fit the column: the caller then converts the message the JSON way, which
/// reports the error the user sees.
/// </summary>
internal static class AvroLeafConverter
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? s_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? s_writer;

    /// <summary>A string into a text column, its bytes into the tuple as they are; false when it needs the general path.</summary>
    public static bool TryWriteText(ValueConverter converter, in AvroLeaf leaf, ReadOnlySpan<byte> payload, CopyBuffer tuple) =>
        leaf.Kind == AvroLeafKind.String && converter is TextConverter text
        && text.TryEncodeUtf8(leaf.Symbol ?? payload.Slice(leaf.DataStart, leaf.DataLength), tuple);

    /// <summary>The column value (null: no value, like JSON null); false when the JSON path must decide.</summary>
    public static bool TryConvert(ValueConverter converter, in AvroLeaf leaf, ReadOnlySpan<byte> payload, out object? value)
    {
        value = null;
        if (leaf.Kind == AvroLeafKind.Absent)
        {
            return true;
        }

        var type = converter.Type;
        if (type.IsArray)
        {
            return leaf.Kind == AvroLeafKind.Container && converter.TryFromText(JsonText(leaf, payload), out value, out _);
        }

        switch (type.Scalar)
        {
            case ScalarType.Json or ScalarType.Jsonb:
                var json = JsonText(leaf, payload);
                return json == "null" || ((JsonTextConverter)converter).TryFromRaw(json, out value, out _);
            case ScalarType.Bytea:
                value = leaf.Kind == AvroLeafKind.Bytes ? payload.Slice(leaf.DataStart, leaf.DataLength).ToArray() : null;
                return value is not null;
            case ScalarType.Text or ScalarType.Varchar:
                return Text(leaf, payload) is { } text && converter.TryFromText(text, out value, out _);
            case ScalarType.Boolean:
                if (leaf.Kind == AvroLeafKind.Boolean)
                {
                    value = leaf.Number != 0;
                    return true;
                }

                return FromString(converter, leaf, payload, out value);
            case ScalarType.Date:
                return leaf.Kind switch
                {
                    AvroLeafKind.Date => Set(DateOnly.FromDayNumber((int)leaf.Number), out value),
                    AvroLeafKind.Integer => FromNumberToken(converter, leaf.Number, out value),
                    _ => FromString(converter, leaf, payload, out value),
                };
            case ScalarType.Uuid:
                return leaf.Kind == AvroLeafKind.Uuid
                    ? Set(new Guid(payload.Slice(leaf.DataStart, 16), bigEndian: true), out value)
                    : FromString(converter, leaf, payload, out value);
            case ScalarType.Timestamp or ScalarType.TimestampTz:
                // Whole microseconds are what the ISO text parses back to; a 100 ns remainder is rounded by the text rules.
                if (leaf.Kind == AvroLeafKind.Timestamp && leaf.Number % 10 == 0)
                {
                    return Set(new DateTime(leaf.Number, type.Scalar == ScalarType.TimestampTz ? DateTimeKind.Utc : DateTimeKind.Unspecified), out value);
                }

                return leaf.Kind == AvroLeafKind.Integer ? converter.TryFromInt64(leaf.Number, out value, out _) : FromString(converter, leaf, payload, out value);
            case ScalarType.Time:
                return leaf.Kind == AvroLeafKind.Time && leaf.Number % 10 == 0
                    ? Set(new TimeOnly(leaf.Number), out value)
                    : FromString(converter, leaf, payload, out value);
            default:
                return TryNumber(converter, leaf, payload, out value);
        }
    }

    /// <summary>smallint, integer, bigint, numeric, real, double precision: a number token is read as its text by each of them.</summary>
    private static bool TryNumber(ValueConverter converter, in AvroLeaf leaf, ReadOnlySpan<byte> payload, out object? value)
    {
        value = null;
        var scalar = converter.Type.Scalar;
        switch (leaf.Kind)
        {
            case AvroLeafKind.Integer:
                return converter.TryFromInt64(leaf.Number, out value, out _);
            case AvroLeafKind.Float when scalar == ScalarType.Real:
                return Set((float)leaf.Real, out value);
            case AvroLeafKind.Double when scalar == ScalarType.DoublePrecision:
                return Set(leaf.Real, out value);
            // numeric without scale has its own converter (arbitrary precision): it takes the decimal's text below.
            case AvroLeafKind.Decimal when converter is NumericConverter numeric && SmallDecimal(payload.Slice(leaf.DataStart, leaf.DataLength), leaf.Scale) is { } exact:
                return numeric.TryFromDecimal(exact, out value, out _);
            case AvroLeafKind.Boolean or AvroLeafKind.Container:
                return false;
            default:
                return Text(leaf, payload) is { } text && converter.TryFromText(text, out value, out _);
        }
    }

    /// <summary>Leaves that are JSON strings (every scalar converter reads a JSON string as its text); false for the others.</summary>
    private static bool FromString(ValueConverter converter, in AvroLeaf leaf, ReadOnlySpan<byte> payload, out object? value)
    {
        value = null;
        return leaf.Kind is AvroLeafKind.String or AvroLeafKind.Bytes or AvroLeafKind.Date or AvroLeafKind.Time or AvroLeafKind.Timestamp or AvroLeafKind.Uuid
            && converter.TryFromText(Text(leaf, payload)!, out value, out _);
    }

    /// <summary>The JSON token's text: a string's content, a number's digits (null for containers).</summary>
    private static string? Text(in AvroLeaf leaf, ReadOnlySpan<byte> payload) => leaf.Kind switch
    {
        AvroLeafKind.String => Encoding.UTF8.GetString(leaf.Symbol ?? payload.Slice(leaf.DataStart, leaf.DataLength)),
        AvroLeafKind.Bytes => Convert.ToBase64String(payload.Slice(leaf.DataStart, leaf.DataLength)),
        AvroLeafKind.Decimal => AvroJsonWriter.DecimalText(payload.Slice(leaf.DataStart, leaf.DataLength), leaf.Scale),
        AvroLeafKind.Date => DateOnly.FromDayNumber((int)leaf.Number).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        AvroLeafKind.Time => AvroJsonWriter.Time(leaf.Number),
        AvroLeafKind.Timestamp => AvroJsonWriter.TimestampText(leaf.Number, utc: leaf.Scale == 1),
        AvroLeafKind.Uuid => new Guid(payload.Slice(leaf.DataStart, 16), bigEndian: true).ToString(),
        AvroLeafKind.Integer => leaf.Number.ToString(CultureInfo.InvariantCulture),
        AvroLeafKind.Boolean => leaf.Number != 0 ? "true" : "false",
        AvroLeafKind.Float when float.IsFinite((float)leaf.Real) => ((float)leaf.Real).ToString("R", CultureInfo.InvariantCulture),
        AvroLeafKind.Float or AvroLeafKind.Double when !double.IsFinite(leaf.Real) => double.IsNaN(leaf.Real) ? "NaN" : leaf.Real > 0 ? "Infinity" : "-Infinity",
        AvroLeafKind.Double => WrittenNumber(leaf.Real),
        _ => null,
    };

    /// <summary>An unscaled value of up to 8 bytes as the decimal its digits parse to (same digits, same scale); null when larger.</summary>
    private static decimal? SmallDecimal(ReadOnlySpan<byte> unscaled, int scale)
    {
        if (unscaled.Length > 8 || scale is < 0 or > 28)
        {
            return null;
        }

        long number = !unscaled.IsEmpty && (unscaled[0] & 0x80) != 0 ? -1 : 0;
        foreach (var b in unscaled)
        {
            number = (number << 8) | b;
        }

        var magnitude = number < 0 ? (ulong)(-(number + 1)) + 1 : (ulong)number;
        return new decimal((int)(uint)magnitude, (int)(uint)(magnitude >> 32), 0, number < 0, (byte)scale);
    }

    /// <summary>A date column reads a JSON integer as days since 1970-01-01 (not as text): through the converter's own JSON rule.</summary>
    private static bool FromNumberToken(ValueConverter converter, long number, out object? value)
    {
        using var document = JsonDocument.Parse(number.ToString(CultureInfo.InvariantCulture));
        return converter.TryFromJson(document.RootElement, out value, out _);
    }

    /// <summary>What Utf8JsonWriter writes for a double: the JSON path's digits.</summary>
    private static string WrittenNumber(double number) => Written(w => w.WriteNumberValue(number));

    /// <summary>The JSON text of the whole value, exactly as the JSON path's document holds it.</summary>
    private static string JsonText(in AvroLeaf leaf, ReadOnlySpan<byte> payload)
    {
        var buffer = s_buffer ??= new ArrayBufferWriter<byte>(1024);
        var writer = s_writer ??= new Utf8JsonWriter(buffer, s_writerOptions);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        AvroJsonWriter.Write(leaf.Schema!, payload[leaf.Start..leaf.End], writer);
        writer.Flush();
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string Written(Action<Utf8JsonWriter> write)
    {
        var buffer = s_buffer ??= new ArrayBufferWriter<byte>(1024);
        var writer = s_writer ??= new Utf8JsonWriter(buffer, s_writerOptions);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        write(writer);
        writer.Flush();
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static bool Set<T>(T converted, out object? value)
    {
        value = converted;
        return true;
    }
}
