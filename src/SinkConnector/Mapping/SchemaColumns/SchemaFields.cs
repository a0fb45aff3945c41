using Avro;
using Newtonsoft.Json.Linq;
using SinkConnector.Configuration;
using SinkConnector.PgBinary;
using AvroSchema = Avro.Schema;

namespace SinkConnector.Mapping.SchemaColumns;

/// <summary>A top-level field of a row schema as a column would hold it.</summary>
/// <param name="Optional">Whether a writer may leave it out of a newer schema's messages: nullable, or with a default.</param>
/// <param name="Default">The field's default as the column's default text (scalars only), or null.</param>
public sealed record SchemaField(string Name, ColumnType Type, bool Nullable, bool Optional, string? Default);

/// <summary>The row fields of a registry schema: the record's own for plain values, the row image's for format debezium.</summary>
public static class SchemaFields
{
    /// <summary>The row fields of a registry schema, read as its type says (JSON Schema or Avro); throws <see cref="FormatException"/> with the reason when it describes none.</summary>
    public static IReadOnlyList<SchemaField> Of(Registry.RegistrySchema schema, MessageFormat format)
    {
        ArgumentNullException.ThrowIfNull(schema);
        return schema.Type == "JSON" ? JsonSchemaFields.Of(schema.Text, format) : Of(schema.Text, format);
    }

    /// <summary>The top-level fields of the row <paramref name="schemaText"/> describes; throws <see cref="FormatException"/> with the reason when it describes none.</summary>
    public static IReadOnlyList<SchemaField> Of(string schemaText, MessageFormat format)
    {
        AvroSchema schema;
        try
        {
            schema = AvroSchema.Parse(schemaText);
        }
        catch (AvroException e)
        {
            throw new FormatException($"not an Avro schema the sink can read: {e.Message}", e);
        }

        return Of(schema, format);
    }

    public static IReadOnlyList<SchemaField> Of(AvroSchema schema, MessageFormat format)
    {
        var row = format == MessageFormat.Debezium ? RowImage(schema) : schema as RecordSchema;
        if (row is null)
        {
            throw new FormatException($"columns come from the fields of a record schema, and this schema is {schema.Tag.ToString().ToLowerInvariant()}; list the columns instead");
        }

        return [.. row.Fields.Select(Field)];
    }

    private static SchemaField Field(Field field)
    {
        var (type, nullable) = AvroColumnTypes.Of(field.Schema);
        var hasDefault = field.DefaultValue is not null;
        var defaultText = field.DefaultValue is JValue { Type: JTokenType.String or JTokenType.Integer or JTokenType.Float or JTokenType.Boolean } value
            && type is { IsArray: false, Scalar: not (ScalarType.Bytea or ScalarType.Jsonb or ScalarType.Json) }
                ? value.Type == JTokenType.Boolean ? ((bool)value ? "true" : "false") : Convert.ToString(value.Value, System.Globalization.CultureInfo.InvariantCulture)
                : null;
        return new SchemaField(field.Name, type, nullable, nullable || hasDefault, defaultText);
    }

    /// <summary>A Debezium envelope's row record: the record branch of <c>after</c> (or <c>before</c>).</summary>
    private static RecordSchema? RowImage(AvroSchema schema)
    {
        if (schema is not RecordSchema envelope)
        {
            return null;
        }

        foreach (var name in new[] { "after", "before" })
        {
            if (envelope.TryGetField(name, out var image))
            {
                var record = image.Schema is UnionSchema union ? union.Schemas.OfType<RecordSchema>().FirstOrDefault() : image.Schema as RecordSchema;
                if (record is not null)
                {
                    return record;
                }
            }
        }

        throw new FormatException("format debezium needs a Debezium envelope schema (a record with after and before), and this record has neither");
    }
}
