using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Label = Google.Protobuf.Reflection.FieldDescriptorProto.Types.Label;
using Type = Google.Protobuf.Reflection.FieldDescriptorProto.Types.Type;

namespace SinkConnector.Mapping.Encodings;

/// <summary>
/// The files a Protobuf schema may import without a schema reference, because Confluent's serializers never register
/// them: Google's well-known types (from Google.Protobuf itself), Confluent's <c>confluent/type/decimal.proto</c> and
/// googleapis' <c>google/type/date.proto</c> (both rebuilt here from their published field lists: neither ships in a
/// package the sink uses). Listed in dependency order, as <see cref="FileDescriptor.BuildFromByteStrings(IEnumerable{ByteString})"/> needs.
/// </summary>
internal static class ProtobufBuiltInFiles
{
    public static IReadOnlyList<ByteString> All { get; } =
    [
        AnyReflection.Descriptor.SerializedData,
        SourceContextReflection.Descriptor.SerializedData,
        TypeReflection.Descriptor.SerializedData,
        ApiReflection.Descriptor.SerializedData,
        DurationReflection.Descriptor.SerializedData,
        EmptyReflection.Descriptor.SerializedData,
        FieldMaskReflection.Descriptor.SerializedData,
        StructReflection.Descriptor.SerializedData,
        TimestampReflection.Descriptor.SerializedData,
        WrappersReflection.Descriptor.SerializedData,
        DescriptorReflection.Descriptor.SerializedData,
        File("confluent/type/decimal.proto", "confluent.type", "Decimal", ("value", Type.Bytes), ("precision", Type.Uint32), ("scale", Type.Int32)),
        File("google/type/date.proto", "google.type", "Date", ("year", Type.Int32), ("month", Type.Int32), ("day", Type.Int32)),
    ];

    /// <summary>The names importing files use for <see cref="All"/>.</summary>
    public static IReadOnlySet<string> Names { get; } = All.Select(f => FileDescriptorProto.Parser.ParseFrom(f).Name).ToHashSet(StringComparer.Ordinal);

    private static ByteString File(string name, string package, string message, params (string Name, Type Type)[] fields)
    {
        var type = new DescriptorProto { Name = message };
        type.Field.AddRange(fields.Select((f, i) => new FieldDescriptorProto
        {
            Name = f.Name,
            JsonName = f.Name,
            Number = i + 1,
            Label = Label.Optional,
            Type = f.Type,
        }));
        var file = new FileDescriptorProto { Name = name, Package = package, Syntax = "proto3" };
        file.MessageType.Add(type);
        return file.ToByteString();
    }
}
