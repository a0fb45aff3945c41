using System.Text.Json.Nodes;
using Google.Protobuf.Reflection;

namespace SinkConnector.Testing;

/// <summary>
/// Protobuf schemas in the stand-in, as the registry keeps them: the .proto text (schemaType PROTOBUF) with its schema
/// references, and <c>GET /schemas/ids/{id}?format=serialized</c> answering the file as a base64
/// <c>FileDescriptorProto</c> (the registry compiles the text; here protoc did, at build time, into the generated
/// class's descriptor).
/// </summary>
public sealed partial class SchemaRegistryStandIn
{
    private readonly Dictionary<int, (string Serialized, (string Name, string Subject, int Version)[] References)> _protobuf = [];

    /// <summary>
    /// Registers <paramref name="file"/> under <paramref name="subject"/> and, first, each file it imports (other than
    /// the ones every registry client has built in: google/protobuf, google/type, confluent) under a subject named
    /// after the import, as Confluent's serializers do (ReferenceSubjectNameStrategy's default); returns the id.
    /// </summary>
    public int RegisterProtobuf(string subject, FileDescriptor file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var references = new List<(string, string, int)>();
        foreach (var dependency in file.Dependencies.Where(d => !IsBuiltIn(d.Name)))
        {
            var id = RegisterProtobuf(dependency.Name, dependency);
            lock (_lock)
            {
                references.Add((dependency.Name, dependency.Name, _subjects[dependency.Name].IndexOf(id) + 1));
            }
        }

        lock (_lock)
        {
            var id = RegisterLocked(subject, ProtoText(file.Name), "PROTOBUF");
            _protobuf[id] = (Convert.ToBase64String(file.SerializedData.ToByteArray()), [.. references]);
            return id;
        }
    }

    private static bool IsBuiltIn(string import) =>
        import.StartsWith("google/protobuf/", StringComparison.Ordinal) || import.StartsWith("google/type/", StringComparison.Ordinal)
        || import.StartsWith("confluent/", StringComparison.Ordinal);

    /// <summary>The .proto text of a file of the Testing project's Protos folder (embedded at build time).</summary>
    public static string ProtoText(string name)
    {
        using var stream = typeof(SchemaRegistryStandIn).Assembly.GetManifestResourceStream("protos/" + name)
            ?? throw new ArgumentException($"no embedded .proto named {name}", nameof(name));
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>A Protobuf schema's references, and with format=serialized its descriptor instead of its text.</summary>
    private void AddProtobufParts(int id, JsonObject answer, string? format)
    {
        if (!_protobuf.TryGetValue(id, out var protobuf))
        {
            return;
        }

        if (format == "serialized")
        {
            answer["schema"] = protobuf.Serialized;
        }

        if (protobuf.References.Length > 0)
        {
            answer["references"] = new JsonArray([.. protobuf.References.Select(r => (JsonNode)new JsonObject
            {
                ["name"] = r.Name,
                ["subject"] = r.Subject,
                ["version"] = r.Version,
            })]);
        }
    }
}
