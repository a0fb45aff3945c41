using System.Text.Json;
using SinkConnector.Registry;

namespace SinkConnector.Mapping.Encodings;

/// <summary>
/// What a condition's <c>schema</c> compares: an Avro schema's full name (namespace.name), a JSON Schema's
/// <c>title</c>. Made once per schema id.
/// </summary>
internal sealed record WriterSchemaName(string? Name)
{
    public static WriterSchemaName Parse(RegistrySchema schema)
    {
        try
        {
            if (schema.Type == "AVRO")
            {
                var parsed = Avro.Schema.Parse(schema.Text);
                return new WriterSchemaName(parsed is Avro.NamedSchema named ? named.Fullname : parsed.Name);
            }

            using var document = JsonDocument.Parse(schema.Text);
            return new WriterSchemaName(
                document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("title", out var title)
                    && title.ValueKind == JsonValueKind.String ? title.GetString() : null);
        }
        catch (Exception e) when (e is Avro.AvroException or JsonException)
        {
            // The conversion of the same message reports why the schema is unusable.
            return new WriterSchemaName((string?)null);
        }
    }
}
