using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using WireType = Google.Protobuf.WireFormat.WireType;

namespace SinkConnector.Mapping.Encodings;

/// <summary>
/// Decodes a Protobuf payload with its message descriptor (from the registry, no generated class) into the JSON the
/// mapping's converters already read, as <see cref="AvroJsonWriter"/> does for Avro: messages become objects in
/// field declaration order (nested paths by field name), repeated fields arrays, maps objects, enums their value's
/// name, bytes base64, 64-bit integers exact JSON numbers (uint64 beyond long too). A oneof writes only its set
/// member. Presence follows the schema: an absent field with presence (a message, proto3 <c>optional</c>, a oneof
/// member, proto2) is null, an absent proto3 scalar its default (0, "", false, the enum's zero value), an absent
/// repeated field []. The well-known types are values, not messages (<see cref="ProtobufWellKnownTypes"/>).
/// </summary>
internal static class ProtobufJsonWriter
{
    /// <summary>Deeper data is refused: a recursive message type could otherwise nest as deep as the payload is long.</summary>
    public const int MaxDepth = 64;

    /// <summary>Writes <paramref name="data"/> as JSON; throws <see cref="ProtobufDataException"/> when it does not decode as <paramref name="message"/>.</summary>
    public static void Write(MessageDescriptor message, ReadOnlyMemory<byte> data, Utf8JsonWriter json) => WriteMessage(message, data, json, 0);

    internal static void WriteMessage(MessageDescriptor message, ReadOnlyMemory<byte> data, Utf8JsonWriter json, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ProtobufDataException($"the value is nested deeper than {MaxDepth} levels");
        }

        var fields = ProtobufFields.Read(message, data);
        if (ProtobufWellKnownTypes.TryWrite(message, fields, json, depth))
        {
            return;
        }

        json.WriteStartObject();
        foreach (var field in message.Fields.InDeclarationOrder())
        {
            if (field.RealContainingOneof is { } oneof && fields.CaseOf(oneof) != field)
            {
                continue;
            }

            json.WritePropertyName(field.Name);
            WriteField(field, fields.Of(field), json, depth);
        }

        json.WriteEndObject();
    }

    internal static void WriteField(FieldDescriptor field, List<ProtobufRaw>? values, Utf8JsonWriter json, int depth)
    {
        if (field.IsMap)
        {
            WriteMap(field, values, json, depth);
        }
        else if (field.IsRepeated)
        {
            json.WriteStartArray();
            foreach (var raw in values ?? [])
            {
                if (raw.WireType == WireType.LengthDelimited && ProtobufFields.ElementWireType(field) != WireType.LengthDelimited)
                {
                    WritePacked(field, raw.Bytes, json);
                }
                else
                {
                    WriteValue(field, raw, json, depth);
                }
            }

            json.WriteEndArray();
        }
        else if (values is null)
        {
            WriteAbsent(field, json);
        }
        else if (field.FieldType == FieldType.Message)
        {
            // A message field that occurs more than once is merged, and parsing the concatenation is that merge.
            WriteMessage(field.MessageType, values.Count == 1 ? values[0].Bytes : Concatenate(values), json, depth + 1);
        }
        else
        {
            WriteValue(field, values[^1], json, depth);
        }
    }

    private static void WriteAbsent(FieldDescriptor field, Utf8JsonWriter json)
    {
        if (field.HasPresence)
        {
            json.WriteNullValue();
            return;
        }

        switch (field.FieldType)
        {
            case FieldType.String:
            case FieldType.Bytes:
                json.WriteStringValue("");
                break;
            default:
                WriteNumber(field, 0, json);
                break;
        }
    }

    private static void WriteValue(FieldDescriptor field, ProtobufRaw raw, Utf8JsonWriter json, int depth)
    {
        switch (field.FieldType)
        {
            case FieldType.String:
                json.WriteStringValue(Utf8.IsValid(raw.Bytes.Span) ? raw.Bytes.Span : throw new ProtobufDataException($"field {field.FullName} is not valid UTF-8"));
                break;
            case FieldType.Bytes:
                json.WriteBase64StringValue(raw.Bytes.Span);
                break;
            case FieldType.Message:
                WriteMessage(field.MessageType, raw.Bytes, json, depth + 1);
                break;
            default:
                WriteNumber(field, raw.Number, json);
                break;
        }
    }

    private static void WritePacked(FieldDescriptor field, ReadOnlyMemory<byte> bytes, Utf8JsonWriter json)
    {
        var input = ProtobufFields.Stream(bytes);
        var wireType = ProtobufFields.ElementWireType(field);
        try
        {
            while (!input.IsAtEnd)
            {
                WriteNumber(field, wireType switch
                {
                    WireType.Fixed64 => input.ReadFixed64(),
                    WireType.Fixed32 => input.ReadFixed32(),
                    _ => input.ReadUInt64(),
                }, json);
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ProtobufDataException($"field {field.FullName}: {e.Message}");
        }
    }

    /// <summary>A varint or fixed-width value of <paramref name="field"/>'s type, from its wire bits.</summary>
    private static void WriteNumber(FieldDescriptor field, ulong bits, Utf8JsonWriter json)
    {
        switch (field.FieldType)
        {
            case FieldType.Double:
                WriteFloating(BitConverter.Int64BitsToDouble((long)bits), json);
                break;
            case FieldType.Float:
                var single = BitConverter.Int32BitsToSingle((int)(uint)bits);
                if (float.IsFinite(single))
                {
                    // Its own shortest text (1.1, not the double 1.100000023841858).
                    json.WriteRawValue(single.ToString("R", CultureInfo.InvariantCulture), skipInputValidation: true);
                }
                else
                {
                    WriteFloating(single, json);
                }

                break;
            case FieldType.Int64:
            case FieldType.SFixed64:
                json.WriteNumberValue((long)bits);
                break;
            case FieldType.UInt64:
            case FieldType.Fixed64:
                json.WriteNumberValue(bits);
                break;
            case FieldType.Int32:
            case FieldType.SFixed32:
                // int32 varints carry negative numbers sign-extended to 64 bits: the low 32 are the value.
                json.WriteNumberValue((int)bits);
                break;
            case FieldType.UInt32:
            case FieldType.Fixed32:
                json.WriteNumberValue((uint)bits);
                break;
            case FieldType.SInt32:
                json.WriteNumberValue((int)((uint)bits >> 1) ^ -(int)((uint)bits & 1));
                break;
            case FieldType.SInt64:
                json.WriteNumberValue((long)(bits >> 1) ^ -(long)(bits & 1));
                break;
            case FieldType.Bool:
                json.WriteBooleanValue(bits != 0);
                break;
            case FieldType.Enum:
                // An open (proto3) enum keeps a number its schema does not name: the number, as Protobuf's JSON does.
                if (field.EnumType.FindValueByNumber((int)bits) is { } named)
                {
                    json.WriteStringValue(named.Name);
                }
                else
                {
                    json.WriteNumberValue((int)bits);
                }

                break;
            default:
                throw new ProtobufDataException($"field {field.FullName} has type {field.FieldType}, which the sink does not read");
        }
    }

    private static void WriteMap(FieldDescriptor field, List<ProtobufRaw>? values, Utf8JsonWriter json, int depth)
    {
        var entryType = field.MessageType;
        var keyField = entryType.FindFieldByNumber(1);
        var valueField = entryType.FindFieldByNumber(2);
        // A key that occurs twice keeps its last value, in the place it first had.
        var entries = new Dictionary<string, ProtobufFields>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var raw in values ?? [])
        {
            var entry = ProtobufFields.Read(entryType, raw.Bytes);
            var key = MapKey(keyField, entry.Of(keyField));
            if (!entries.ContainsKey(key))
            {
                order.Add(key);
            }

            entries[key] = entry;
        }

        json.WriteStartObject();
        foreach (var key in order)
        {
            json.WritePropertyName(key);
            WriteField(valueField, entries[key].Of(valueField), json, depth + 1);
        }

        json.WriteEndObject();
    }

    private static string MapKey(FieldDescriptor keyField, List<ProtobufRaw>? values)
    {
        if (keyField.FieldType == FieldType.String)
        {
            var bytes = values is null ? default : values[^1].Bytes.Span;
            return Utf8.IsValid(bytes) ? System.Text.Encoding.UTF8.GetString(bytes) : throw new ProtobufDataException("a map key is not valid UTF-8");
        }

        // Integer and bool keys are written as their JSON text, as in Protobuf's JSON mapping.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(32);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteNumber(keyField, values is null ? 0 : values[^1].Number, writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static byte[] Concatenate(List<ProtobufRaw> values)
    {
        var all = new byte[values.Sum(v => v.Bytes.Length)];
        var at = 0;
        foreach (var value in values)
        {
            value.Bytes.Span.CopyTo(all.AsSpan(at));
            at += value.Bytes.Length;
        }

        return all;
    }

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
}
