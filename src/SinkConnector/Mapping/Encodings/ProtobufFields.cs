using System.Runtime.InteropServices;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using WireType = Google.Protobuf.WireFormat.WireType;

namespace SinkConnector.Mapping.Encodings;

/// <summary>One field value as it was on the wire: a varint or fixed-width number, or length-delimited bytes.</summary>
internal readonly record struct ProtobufRaw(WireType WireType, ulong Number, ReadOnlyMemory<byte> Bytes);

/// <summary>
/// The fields of one encoded message, read with <see cref="CodedInputStream"/> and its descriptor: the values of each
/// known field in wire order (fields may come in any order, repeated ones interleaved), and the member each oneof
/// ended with. Fields the descriptor does not know (a newer writer) are skipped, as every Protobuf reader does.
/// </summary>
internal sealed class ProtobufFields
{
    private readonly Dictionary<int, List<ProtobufRaw>> _values = [];
    private readonly Dictionary<OneofDescriptor, FieldDescriptor> _oneofCases = [];

    private ProtobufFields()
    {
    }

    /// <summary>The values of <paramref name="field"/> in wire order; null when absent.</summary>
    public List<ProtobufRaw>? Of(FieldDescriptor field) => _values.GetValueOrDefault(field.FieldNumber);

    /// <summary>The member of <paramref name="oneof"/> that is set (the last one on the wire); null when none.</summary>
    public FieldDescriptor? CaseOf(OneofDescriptor oneof) => _oneofCases.GetValueOrDefault(oneof);

    /// <summary>The last value of a varint or fixed-width field number <paramref name="number"/>, 0 when absent.</summary>
    public ulong Number(int number) => _values.TryGetValue(number, out var values) ? values[^1].Number : 0;

    /// <summary>The last value of length-delimited field number <paramref name="number"/>, empty when absent.</summary>
    public ReadOnlyMemory<byte> Bytes(int number) => _values.TryGetValue(number, out var values) ? values[^1].Bytes : default;

    /// <summary>Reads <paramref name="data"/> as a <paramref name="message"/>; throws <see cref="ProtobufDataException"/>.</summary>
    public static ProtobufFields Read(MessageDescriptor message, ReadOnlyMemory<byte> data)
    {
        var fields = new ProtobufFields();
        var input = Stream(data);
        try
        {
            for (var tag = input.ReadTag(); tag != 0; tag = input.ReadTag())
            {
                var field = message.FindFieldByNumber(WireFormat.GetTagFieldNumber(tag));
                if (field is null)
                {
                    input.SkipLastField();
                    continue;
                }

                var wireType = WireFormat.GetTagWireType(tag);
                CheckWireType(field, wireType);
                ProtobufRaw raw = wireType switch
                {
                    WireType.Varint => new(wireType, input.ReadUInt64(), default),
                    WireType.Fixed64 => new(wireType, input.ReadFixed64(), default),
                    WireType.Fixed32 => new(wireType, input.ReadFixed32(), default),
                    _ => new(wireType, 0, input.ReadBytes().Memory),
                };
                if (!fields._values.TryGetValue(field.FieldNumber, out var values))
                {
                    fields._values[field.FieldNumber] = values = [];
                }

                values.Add(raw);
                if (field.RealContainingOneof is { } oneof)
                {
                    fields._oneofCases[oneof] = field;
                }
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ProtobufDataException($"{message.FullName}: {e.Message}");
        }

        return fields;
    }

    /// <summary>A stream over <paramref name="data"/> without copying it.</summary>
    public static CodedInputStream Stream(ReadOnlyMemory<byte> data) =>
        MemoryMarshal.TryGetArray(data, out var segment)
            ? new CodedInputStream(segment.Array!, segment.Offset, segment.Count)
            : new CodedInputStream(data.ToArray());

    /// <summary>The wire type a value of <paramref name="field"/>'s type is written with (one element, for repeated ones).</summary>
    public static WireType ElementWireType(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.Double or FieldType.Fixed64 or FieldType.SFixed64 => WireType.Fixed64,
        FieldType.Float or FieldType.Fixed32 or FieldType.SFixed32 => WireType.Fixed32,
        FieldType.String or FieldType.Bytes or FieldType.Message => WireType.LengthDelimited,
        FieldType.Group => WireType.StartGroup,
        _ => WireType.Varint,
    };

    private static void CheckWireType(FieldDescriptor field, WireType wireType)
    {
        var expected = ElementWireType(field);
        if (expected == WireType.StartGroup)
        {
            throw new ProtobufDataException($"field {field.FullName} is a proto2 group, which the sink does not read");
        }

        // Repeated numbers may come packed (one length-delimited run) or not, whatever the schema says.
        var packed = field.IsRepeated && wireType == WireType.LengthDelimited && expected != WireType.LengthDelimited;
        if (wireType != expected && !packed)
        {
            throw new ProtobufDataException(
                $"field {field.FullName} (number {field.FieldNumber}) came with wire type {wireType}; its type {field.FieldType} is written as {expected}");
        }
    }
}
