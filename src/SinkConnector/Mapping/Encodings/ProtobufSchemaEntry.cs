using Google.Protobuf;
using Google.Protobuf.Reflection;
using SinkConnector.Registry;

namespace SinkConnector.Mapping.Encodings;

/// <summary>
/// A registry schema built into Protobuf descriptors once per id (its file, with its references and the built-in
/// files resolved), or why it cannot be (kept too: every message of that id fails alike).
/// </summary>
internal sealed record ProtobufSchemaEntry(FileDescriptor? File, string? Problem)
{
    public static ProtobufSchemaEntry Parse(RegistrySchema schema)
    {
        if (schema.Type != "PROTOBUF")
        {
            return new ProtobufSchemaEntry(null, $"it is a {schema.Type} schema");
        }

        if (schema.ProtobufFiles is not { Count: > 0 } files)
        {
            return new ProtobufSchemaEntry(null, "the registry did not serve it as a serialized FileDescriptorProto");
        }

        try
        {
            var data = new List<ByteString>(ProtobufBuiltInFiles.All);
            foreach (var file in files)
            {
                if (file.ImportName is { } imported && ProtobufBuiltInFiles.Names.Contains(imported))
                {
                    continue;
                }

                var proto = FileDescriptorProto.Parser.ParseFrom(Convert.FromBase64String(file.Serialized));
                // The registry serializes a referenced schema without knowing the name its importer uses: the
                // importer's name is the one the dependency is resolved by. The schema's own file must not take a
                // name that is imported.
                proto.Name = file.ImportName ?? $"schema-{schema.Id}/{proto.Name}";
                data.Add(proto.ToByteString());
            }

            return new ProtobufSchemaEntry(FileDescriptor.BuildFromByteStrings(data)[^1], null);
        }
        catch (Exception e) when (e is FormatException or InvalidProtocolBufferException or ArgumentException or DescriptorValidationException)
        {
            return new ProtobufSchemaEntry(null, e.Message);
        }
    }
}
