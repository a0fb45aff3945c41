using Confluent.SchemaRegistry;

namespace SinkConnector.Registry;

/// <summary>
/// One file of a Protobuf schema: a <c>FileDescriptorProto</c>, base64, as the registry serves it with
/// <c>format=serialized</c>. <paramref name="ImportName"/> is the name the importing file uses for it (the schema
/// reference's name); null for the schema's own file, which nothing imports.
/// </summary>
public sealed record ProtobufFile(string? ImportName, string Serialized);

/// <summary>
/// Fetches what a Protobuf schema is built from: its schema references (each a schema under its own subject and
/// version, recursively), dependencies first, then its own file last, every one with <c>format=serialized</c>, so that
/// the sink needs no .proto parser. The well-known types (<c>google/protobuf/*</c>) and Confluent's and Google's common
/// types are not references: producers' serializers leave them out, and the sink has them built in.
/// </summary>
public static class ProtobufSchemaFiles
{
    /// <summary>Format argument of <c>GET /schemas/ids/{id}</c> for a base64 <c>FileDescriptorProto</c>.</summary>
    public const string SerializedFormat = "serialized";

    public static async Task<IReadOnlyList<ProtobufFile>> FetchAsync(
        ISchemaRegistryClient client, int id, IEnumerable<SchemaReference>? references, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var files = new List<ProtobufFile>();
        await AddReferencesAsync(client, references, files, new HashSet<string>(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
        var own = await client.GetSchemaAsync(id, SerializedFormat).WaitAsync(cancellationToken).ConfigureAwait(false);
        files.Add(new ProtobufFile(null, own.SchemaString));
        return files;
    }

    private static async Task AddReferencesAsync(
        ISchemaRegistryClient client, IEnumerable<SchemaReference>? references, List<ProtobufFile> files, HashSet<string> added, CancellationToken cancellationToken)
    {
        // A name is fetched once: a file imported twice is listed once, and references that (against the registry's
        // rules) form a cycle end.
        foreach (var reference in references ?? [])
        {
            if (!added.Add(reference.Name))
            {
                continue;
            }

            var registered = await client.GetRegisteredSchemaAsync(reference.Subject, reference.Version, false).WaitAsync(cancellationToken).ConfigureAwait(false);
            await AddReferencesAsync(client, registered.References, files, added, cancellationToken).ConfigureAwait(false);
            var serialized = await client.GetSchemaAsync(registered.Id, SerializedFormat).WaitAsync(cancellationToken).ConfigureAwait(false);
            files.Add(new ProtobufFile(reference.Name, serialized.SchemaString));
        }
    }
}
