using YamlDotNet.RepresentationModel;

namespace SinkConnector.Configuration.Loading;

/// <summary>
/// Reads <c>columns_from_schema</c> of a mapping: whether its columns come from the value schema in the registry.
/// It defaults to true for an Avro or JSON Schema mapping without <c>columns</c>, so that a mapping that lists its columns keeps
/// exactly those (no column appears in it because a producer registered a new schema).
/// </summary>
internal static class SchemaColumnsReader
{
    public static bool Read(YamlMappingNode root, YamlValueReader reader, PayloadEncoding valueEncoding)
    {
        var written = reader.Bool(root, "", "columns_from_schema");
        var fromSchema = written ?? (HasSchema(valueEncoding) && YamlValueReader.IsNull(YamlValueReader.Get(root, "columns")));
        if (fromSchema && !HasSchema(valueEncoding))
        {
            reader.Error(written is null ? "columns" : "columns_from_schema", valueEncoding == PayloadEncoding.Protobuf
                ? "columns from the schema are derived from Avro and JSON Schema schemas only; list the columns of a protobuf mapping"
                : "columns from the schema need encoding: avro or json_schema (or format: avro, json_schema); list the columns of a JSON mapping");
            return false;
        }

        return fromSchema;
    }

    private static bool HasSchema(PayloadEncoding encoding) => encoding is PayloadEncoding.Avro or PayloadEncoding.JsonSchema;
}
