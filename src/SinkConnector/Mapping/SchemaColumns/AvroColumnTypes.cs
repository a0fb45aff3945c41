using System.Text.Json;
using Avro;
using SinkConnector.Mapping.Encodings;
using SinkConnector.PgBinary;
using AvroSchema = Avro.Schema;

namespace SinkConnector.Mapping.SchemaColumns;

/// <summary>
/// The column type of an Avro field: the Postgres type its decoded value (see <c>AvroJsonWriter</c>) converts into
/// exactly. Named Connect/Debezium types first (they carry the meaning), then logical types, then the Avro type.
/// </summary>
internal static class AvroColumnTypes
{
    /// <summary>The column type and whether null is a value of <paramref name="schema"/> (a union with null).</summary>
    public static (ColumnType Type, bool Nullable) Of(AvroSchema schema)
    {
        if (schema is UnionSchema union)
        {
            var branches = union.Schemas.Where(s => s.Tag != AvroSchema.Type.Null).ToList();
            var nullable = branches.Count < union.Count;
            // Several non-null branches decode to whichever was written: only jsonb holds them all.
            return (branches.Count == 1 ? Scalar(branches[0]) : ColumnType.Parse("jsonb"), nullable);
        }

        return (Scalar(schema), schema.Tag == AvroSchema.Type.Null);
    }

    private static ColumnType Scalar(AvroSchema schema)
    {
        if (ConnectTypes.Name(schema) is { } name && Named(name, schema) is { } named)
        {
            return ColumnType.Parse(named);
        }

        if (schema is LogicalSchema logical)
        {
            return ColumnType.Parse(logical.LogicalTypeName switch
            {
                "decimal" => Numeric(logical.GetProperty("precision"), logical.GetProperty("scale")),
                "uuid" => "uuid",
                "date" => "date",
                "time-millis" or "time-micros" => "time",
                "timestamp-millis" or "timestamp-micros" or "timestamp-nanos" => "timestamptz",
                "local-timestamp-millis" or "local-timestamp-micros" or "local-timestamp-nanos" => "timestamp",
                _ => Primitive(logical.BaseSchema),
            });
        }

        if (schema is ArraySchema array)
        {
            var (item, _) = Of(array.ItemSchema);
            // Postgres arrays are of scalars: arrays of arrays, records and maps stay JSON.
            return item.IsArray || item.Scalar is ScalarType.Jsonb or ScalarType.Json ? ColumnType.Parse("jsonb") : item with { IsArray = true };
        }

        return ColumnType.Parse(Primitive(schema));
    }

    private static string Primitive(AvroSchema schema) => schema.Tag switch
    {
        AvroSchema.Type.Boolean => "boolean",
        AvroSchema.Type.Int => "integer",
        AvroSchema.Type.Long => "bigint",
        AvroSchema.Type.Float => "real",
        AvroSchema.Type.Double => "double precision",
        AvroSchema.Type.Bytes or AvroSchema.Type.Fixed => "bytea",
        AvroSchema.Type.String or AvroSchema.Type.Enumeration => "text",
        _ => "jsonb", // records, maps, null-only
    };

    private static string? Named(string name, AvroSchema schema) => name switch
    {
        "io.debezium.time.Date" or "org.apache.kafka.connect.data.Date" => "date",
        "io.debezium.time.Time" or "org.apache.kafka.connect.data.Time" or "io.debezium.time.MicroTime" or "io.debezium.time.NanoTime" => "time",
        "org.apache.kafka.connect.data.Timestamp" or "io.debezium.time.ZonedTimestamp" => "timestamptz",
        "io.debezium.time.Timestamp" or "io.debezium.time.MicroTimestamp" or "io.debezium.time.NanoTimestamp" => "timestamp",
        "io.debezium.time.ZonedTime" => "text",
        "org.apache.kafka.connect.data.Decimal" => Numeric(ConnectParameter(schema, "connect.decimal.precision"), ConnectParameter(schema, "scale")),
        "io.debezium.data.VariableScaleDecimal" => "numeric",
        "io.debezium.data.Uuid" => "uuid",
        "io.debezium.data.Json" => "jsonb",
        _ => null,
    };

    /// <summary><c>numeric(p,s)</c> when the precision is known and Postgres can hold it, else unconstrained <c>numeric</c>.</summary>
    private static string Numeric(string? precision, string? scale)
    {
        var p = int.TryParse(precision?.Trim('"'), out var pv) ? pv : 0;
        var s = int.TryParse(scale?.Trim('"'), out var sv) ? sv : 0;
        return p is > 0 and <= 1000 && s >= 0 && s <= p ? $"numeric({p},{s})" : "numeric";
    }

    private static string? ConnectParameter(AvroSchema schema, string name)
    {
        if (schema.GetProperty("connect.parameters") is not { } parameters)
        {
            return null;
        }

        using var document = JsonDocument.Parse(parameters);
        return document.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }
}
