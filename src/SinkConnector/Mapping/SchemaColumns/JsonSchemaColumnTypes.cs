using System.Text.Json;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.SchemaColumns;

/// <summary>
/// The column type of a JSON Schema property: the Postgres type the JSON conversion (what <c>encoding: json_schema</c>
/// reads values with) turns its values into exactly. Kafka Connect's names (Confluent's JsonSchemaConverter writes
/// <c>connect.type</c> and a <c>title</c> for logical types) come first, then <c>format</c>, then <c>type</c>.
/// </summary>
internal static class JsonSchemaColumnTypes
{
    /// <summary>The type of a property whose schema is <paramref name="schema"/> with <c>$ref</c> and a null branch already taken off; <paramref name="types"/> its non-null <c>type</c> names.</summary>
    public static ColumnType Of(JsonElement schema, IReadOnlyList<string> types)
    {
        if (Text(schema, "title") is { } title && Named(title, schema) is { } named)
        {
            return ColumnType.Parse(named);
        }

        if (types.Count != 1)
        {
            // No type (anything goes) or several: only jsonb holds whichever a message has. A string enum without a type is text.
            return ColumnType.Parse(types.Count == 0 && IsStringEnum(schema) ? "text" : "jsonb");
        }

        return ColumnType.Parse(types[0] switch
        {
            "integer" => Text(schema, "connect.type") switch
            {
                "int8" or "int16" => "smallint",
                "int32" => "integer",
                _ => "bigint",
            },
            "number" => Text(schema, "connect.type") == "float32" ? "real" : Text(schema, "format") == "decimal" ? "numeric" : "double precision",
            "boolean" => "boolean",
            "string" => StringType(schema),
            _ => "jsonb", // object, array, null-only
        });
    }

    private static string StringType(JsonElement schema)
    {
        if (Text(schema, "connect.type") == "bytes" || Text(schema, "contentEncoding") == "base64")
        {
            return "bytea";
        }

        return Text(schema, "format") switch
        {
            "date-time" => "timestamptz",
            "date" => "date",
            "time" => "time",
            // NJsonSchema (Confluent's .NET JsonSerializer) writes "guid" for System.Guid.
            "uuid" or "guid" => "uuid",
            _ => "text",
        };
    }

    private static string? Named(string title, JsonElement schema) => title switch
    {
        "org.apache.kafka.connect.data.Decimal" => Numeric(schema),
        "org.apache.kafka.connect.data.Timestamp" or "io.debezium.time.ZonedTimestamp" => "timestamptz",
        "io.debezium.data.Uuid" => "uuid",
        "io.debezium.data.Json" => "jsonb",
        _ => null,
    };

    /// <summary><c>numeric(p,s)</c> when Connect's parameters give the precision and Postgres can hold it, else unconstrained <c>numeric</c>.</summary>
    private static string Numeric(JsonElement schema)
    {
        if (!schema.TryGetProperty("connect.parameters", out var parameters) || parameters.ValueKind != JsonValueKind.Object)
        {
            return "numeric";
        }

        var p = int.TryParse(Text(parameters, "connect.decimal.precision"), out var pv) ? pv : 0;
        var s = int.TryParse(Text(parameters, "scale"), out var sv) ? sv : 0;
        return p is > 0 and <= 1000 && s >= 0 && s <= p ? $"numeric({p},{s})" : "numeric";
    }

    private static bool IsStringEnum(JsonElement schema) =>
        schema.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0
        && values.EnumerateArray().All(v => v.ValueKind is JsonValueKind.String or JsonValueKind.Null);

    private static string? Text(JsonElement schema, string name) =>
        schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
