using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;
using Avro;
using AvroSchema = Avro.Schema;

namespace SinkConnector.Mapping.Encodings;

/// <summary>
/// Reads one Avro value into an <see cref="AvroLeaf"/> instead of JSON: the same walk as <see cref="AvroJsonWriter"/>,
/// with the same checks in the same places (depth, UTF-8 of strings and map keys, enum and union indexes, the ranges of
/// dates, times and timestamps), so a payload the JSON path refuses is refused here too. Containers are read through
/// (checked, not kept) and become a <see cref="AvroLeafKind.Container"/> leaf over their bytes.
/// </summary>
internal static class AvroValueReader
{
    private static readonly ConditionalWeakTable<EnumSchema, byte[][]> s_symbols = [];

    public static AvroLeaf Read(AvroSchema schema, ref AvroBinaryReader reader, int depth)
    {
        var leaf = new AvroLeaf { Schema = schema, Start = reader.Position };
        ReadInto(schema, ref reader, depth, ref leaf);
        leaf.End = reader.Position;
        return leaf;
    }

    private static void ReadInto(AvroSchema schema, ref AvroBinaryReader reader, int depth, ref AvroLeaf leaf)
    {
        if (depth > AvroJsonWriter.MaxDepth)
        {
            throw new AvroDataException($"the value is nested deeper than {AvroJsonWriter.MaxDepth} levels");
        }

        if (ConnectTypes.Name(schema) is { } connectName && TryConnect(connectName, schema, ref reader, ref leaf))
        {
            return;
        }

        switch (schema)
        {
            case LogicalSchema logical:
                ReadLogical(logical, ref reader, depth, ref leaf);
                return;
            case RecordSchema record:
                foreach (var field in record.Fields)
                {
                    ReadInto(field.Schema, ref reader, depth + 1, ref Discard());
                }

                leaf.Kind = AvroLeafKind.Container;
                return;
            case EnumSchema enumeration:
                var symbol = reader.ReadInt();
                leaf.Kind = AvroLeafKind.String;
                leaf.Symbol = symbol >= 0 && symbol < enumeration.Symbols.Count
                    ? s_symbols.GetValue(enumeration, e => [.. e.Symbols.Select(Encoding.UTF8.GetBytes)])[symbol]
                    : throw new AvroDataException($"{symbol} is not a symbol index of enum {enumeration.Fullname}");
                return;
            case ArraySchema array:
                for (var count = reader.ReadBlockCount(); count != 0; count = reader.ReadBlockCount())
                {
                    for (var i = 0L; i < count; i++)
                    {
                        ReadInto(array.ItemSchema, ref reader, depth + 1, ref Discard());
                    }
                }

                leaf.Kind = AvroLeafKind.Container;
                return;
            case MapSchema map:
                for (var count = reader.ReadBlockCount(); count != 0; count = reader.ReadBlockCount())
                {
                    for (var i = 0L; i < count; i++)
                    {
                        CheckUtf8(reader.ReadBytes());
                        ReadInto(map.ValueSchema, ref reader, depth + 1, ref Discard());
                    }
                }

                leaf.Kind = AvroLeafKind.Container;
                return;
            case UnionSchema union:
                var branch = reader.ReadLong();
                ReadInto(branch >= 0 && branch < union.Count ? union[(int)branch] : throw new AvroDataException($"{branch} is not a branch of union {union}"), ref reader, depth + 1, ref leaf);
                return;
            case FixedSchema fixedSchema:
                Data(ref leaf, AvroLeafKind.Bytes, reader.Position, reader.ReadFixed(fixedSchema.Size).Length);
                return;
            default:
                ReadPrimitive(schema.Tag, ref reader, ref leaf);
                return;
        }
    }

    private static void ReadPrimitive(AvroSchema.Type type, ref AvroBinaryReader reader, ref AvroLeaf leaf)
    {
        switch (type)
        {
            case AvroSchema.Type.Null:
                leaf.Kind = AvroLeafKind.Absent;
                break;
            case AvroSchema.Type.Boolean:
                leaf.Kind = AvroLeafKind.Boolean;
                leaf.Number = reader.ReadBoolean() ? 1 : 0;
                break;
            case AvroSchema.Type.Int:
            case AvroSchema.Type.Long:
                leaf.Kind = AvroLeafKind.Integer;
                leaf.Number = reader.ReadLong();
                break;
            case AvroSchema.Type.Float:
                leaf.Kind = AvroLeafKind.Float;
                leaf.Real = reader.ReadFloat();
                break;
            case AvroSchema.Type.Double:
                leaf.Kind = AvroLeafKind.Double;
                leaf.Real = reader.ReadDouble();
                break;
            case AvroSchema.Type.Bytes:
                ReadData(ref reader, ref leaf, AvroLeafKind.Bytes);
                break;
            case AvroSchema.Type.String:
                ReadData(ref reader, ref leaf, AvroLeafKind.String);
                break;
            default:
                throw new AvroDataException($"unsupported Avro type {type}");
        }
    }

    private static void ReadLogical(LogicalSchema logical, ref AvroBinaryReader reader, int depth, ref AvroLeaf leaf)
    {
        var baseSchema = logical.BaseSchema;
        switch (logical.LogicalTypeName)
        {
            case "decimal":
                var length = baseSchema is FixedSchema f ? reader.ReadFixed(f.Size).Length : reader.ReadBytes().Length;
                Data(ref leaf, AvroLeafKind.Decimal, reader.Position - length, length);
                leaf.Scale = AvroJsonWriter.IntProperty(logical, "scale") ?? 0;
                return;
            case "date":
                Date(ref leaf, reader.ReadInt());
                return;
            case "time-millis":
                Time(ref leaf, reader.ReadInt() * TimeSpan.TicksPerMillisecond);
                return;
            case "time-micros":
                Time(ref leaf, reader.ReadLong() * TimeSpan.TicksPerMicrosecond);
                return;
            case "timestamp-millis":
                Timestamp(ref leaf, reader.ReadLong(), TimeSpan.TicksPerMillisecond, utc: true);
                return;
            case "timestamp-micros":
                Timestamp(ref leaf, reader.ReadLong(), TimeSpan.TicksPerMicrosecond, utc: true);
                return;
            case "local-timestamp-millis":
                Timestamp(ref leaf, reader.ReadLong(), TimeSpan.TicksPerMillisecond, utc: false);
                return;
            case "local-timestamp-micros":
                Timestamp(ref leaf, reader.ReadLong(), TimeSpan.TicksPerMicrosecond, utc: false);
                return;
            case "uuid" when baseSchema is FixedSchema { Size: 16 }:
                Data(ref leaf, AvroLeafKind.Uuid, reader.Position, reader.ReadFixed(16).Length);
                return;
            default:
                ReadInto(baseSchema, ref reader, depth + 1, ref leaf);
                return;
        }
    }

    /// <summary>Whether <see cref="ConnectTypes"/> reads a value of <paramref name="schema"/> as one value (a date, a decimal...) rather than by its Avro type.</summary>
    public static bool IsConnectValue(AvroSchema schema) => ConnectTypes.Name(schema) switch
    {
        "io.debezium.time.Date" or "org.apache.kafka.connect.data.Date" or "io.debezium.time.Time" or "org.apache.kafka.connect.data.Time"
            or "io.debezium.time.MicroTime" or "io.debezium.time.NanoTime" or "org.apache.kafka.connect.data.Timestamp"
            or "io.debezium.time.Timestamp" or "io.debezium.time.MicroTimestamp" or "io.debezium.time.NanoTimestamp" => true,
        "org.apache.kafka.connect.data.Decimal" => schema is not LogicalSchema && schema.Tag == AvroSchema.Type.Bytes,
        "io.debezium.data.VariableScaleDecimal" => schema is RecordSchema { Fields.Count: 2 } record
            && record.Fields[0].Name == "scale" && record.Fields[1].Name == "value",
        _ => false,
    };

    /// <summary>The cases of <see cref="ConnectTypes.TryWrite"/>, with its conditions.</summary>
    private static bool TryConnect(string name, AvroSchema schema, ref AvroBinaryReader reader, ref AvroLeaf leaf)
    {
        switch (name)
        {
            case "io.debezium.time.Date" or "org.apache.kafka.connect.data.Date":
                Date(ref leaf, reader.ReadInt());
                return true;
            case "io.debezium.time.Time" or "org.apache.kafka.connect.data.Time":
                Time(ref leaf, reader.ReadInt() * TimeSpan.TicksPerMillisecond);
                return true;
            case "io.debezium.time.MicroTime":
                Time(ref leaf, reader.ReadLong() * TimeSpan.TicksPerMicrosecond);
                return true;
            case "io.debezium.time.NanoTime":
                Time(ref leaf, reader.ReadLong() / 100);
                return true;
            case "org.apache.kafka.connect.data.Timestamp":
                Timestamp(ref leaf, reader.ReadLong(), TimeSpan.TicksPerMillisecond, utc: true);
                return true;
            case "io.debezium.time.Timestamp":
                Timestamp(ref leaf, reader.ReadLong(), TimeSpan.TicksPerMillisecond, utc: false);
                return true;
            case "io.debezium.time.MicroTimestamp":
                Timestamp(ref leaf, reader.ReadLong(), TimeSpan.TicksPerMicrosecond, utc: false);
                return true;
            case "io.debezium.time.NanoTimestamp":
                Timestamp(ref leaf, reader.ReadLong() / 100, 1, utc: false);
                return true;
            case "org.apache.kafka.connect.data.Decimal" when schema is not LogicalSchema && schema.Tag == AvroSchema.Type.Bytes:
                ReadData(ref reader, ref leaf, AvroLeafKind.Decimal);
                leaf.Scale = ConnectTypes.ConnectScale(schema);
                return true;
            case "io.debezium.data.VariableScaleDecimal" when schema is RecordSchema { Fields.Count: 2 } record
                && record.Fields[0].Name == "scale" && record.Fields[1].Name == "value":
                var scale = reader.ReadInt();
                ReadData(ref reader, ref leaf, AvroLeafKind.Decimal);
                leaf.Scale = scale;
                return true;
            default:
                return false;
        }
    }

    private static void ReadData(ref AvroBinaryReader reader, ref AvroLeaf leaf, AvroLeafKind kind)
    {
        var data = reader.ReadBytes();
        if (kind == AvroLeafKind.String)
        {
            CheckUtf8(data);
        }

        Data(ref leaf, kind, reader.Position - data.Length, data.Length);
    }

    private static void Data(ref AvroLeaf leaf, AvroLeafKind kind, int start, int length)
    {
        leaf.Kind = kind;
        leaf.DataStart = start;
        leaf.DataLength = length;
    }

    private static void Date(ref AvroLeaf leaf, int days)
    {
        leaf.Kind = AvroLeafKind.Date;
        leaf.Number = AvroJsonWriter.DayNumber(days);
    }

    private static void Time(ref AvroLeaf leaf, long ticks)
    {
        leaf.Kind = AvroLeafKind.Time;
        leaf.Number = AvroJsonWriter.TimeTicks(ticks);
    }

    private static void Timestamp(ref AvroLeaf leaf, long value, long ticksPerUnit, bool utc)
    {
        leaf.Kind = AvroLeafKind.Timestamp;
        leaf.Number = AvroJsonWriter.TimestampTicks(value, ticksPerUnit);
        leaf.Scale = utc ? 1 : 0;
    }

    private static void CheckUtf8(ReadOnlySpan<byte> bytes)
    {
        if (!Utf8.IsValid(bytes))
        {
            throw new AvroDataException("a string is not valid UTF-8");
        }
    }

    [ThreadStatic]
    private static AvroLeaf s_discard;

    private static ref AvroLeaf Discard() => ref s_discard;
}
