using SinkConnector.Registry;

namespace SinkConnector.Mapping.Encodings;

/// <summary>A registry schema parsed for Avro decoding once per id, or why it cannot be (kept too: every message of that id fails alike).</summary>
internal sealed record AvroSchemaEntry(Avro.Schema? Schema, string? Problem)
{
    public static AvroSchemaEntry Parse(RegistrySchema schema)
    {
        if (schema.Type != "AVRO")
        {
            return new AvroSchemaEntry(null, $"it is a {schema.Type} schema");
        }

        try
        {
            return new AvroSchemaEntry(Avro.Schema.Parse(schema.Text), null);
        }
        catch (Avro.AvroException e)
        {
            return new AvroSchemaEntry(null, e.Message);
        }
    }
}
