using System.Text.Json;
using SinkConnector.Configuration;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.SchemaColumns;

/// <summary>
/// The row fields of a JSON Schema (<c>encoding: json_schema</c>): the top-level properties of the object schema
/// (for format debezium, of the row image object in <c>after</c>/<c>before</c>), in document order. A property is
/// nullable when null is one of its types (<c>"type": ["string", "null"]</c>, or a <c>oneOf</c>/<c>anyOf</c> with a
/// null branch) or when it is not <c>required</c>: a JSON document may leave it out. <c>$ref</c>s within the document
/// (<c>#/definitions/..</c>, <c>#/$defs/..</c>) are followed; a reference to another schema gives a jsonb column. The
/// members of an <c>allOf</c> (what NJsonSchema writes for a class derived from another) add their properties first.
/// </summary>
internal static class JsonSchemaFields
{
    // A $ref chain longer than this is a cycle (a schema referring to itself), not a real schema.
    private const int MaxReferences = 32;

    public static IReadOnlyList<SchemaField> Of(string schemaText, MessageFormat format)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(schemaText);
        }
        catch (JsonException e)
        {
            throw new FormatException($"not a JSON Schema the sink can read: {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            var (schema, _) = Unwrap(root, root);
            var row = format == MessageFormat.Debezium ? RowImage(root, schema) : schema;
            if (!IsObject(row))
            {
                throw new FormatException($"columns come from the properties of an object schema, and this JSON Schema is {Describe(row)}; list the columns instead");
            }

            var properties = new List<(string Name, JsonElement Schema)>();
            var required = new HashSet<string>(StringComparer.Ordinal);
            Collect(root, row, properties, required, 0);
            return [.. properties.Select(p => Field(root, p.Name, p.Schema, required.Contains(p.Name)))];
        }
    }

    /// <summary>The properties and required names of an object schema, those of its <c>allOf</c> members (the base class) first.</summary>
    private static void Collect(JsonElement root, JsonElement schema, List<(string Name, JsonElement Schema)> properties, HashSet<string> required, int depth)
    {
        if (depth > MaxReferences)
        {
            throw new FormatException($"the JSON Schema's allOf members go in a circle (more than {MaxReferences} deep)");
        }

        if (schema.TryGetProperty("allOf", out var members) && members.ValueKind == JsonValueKind.Array)
        {
            foreach (var member in members.EnumerateArray())
            {
                if (Unwrap(root, member).Schema is { ValueKind: JsonValueKind.Object } resolved)
                {
                    Collect(root, resolved, properties, required, depth + 1);
                }
            }
        }

        if (schema.TryGetProperty("properties", out var own) && own.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in own.EnumerateObject().Where(p => properties.All(known => known.Name != p.Name)))
            {
                properties.Add((property.Name, property.Value));
            }
        }

        if (schema.TryGetProperty("required", out var names) && names.ValueKind == JsonValueKind.Array)
        {
            required.UnionWith(names.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.String).Select(n => n.GetString()!));
        }
    }

    private static SchemaField Field(JsonElement root, string name, JsonElement property, bool required)
    {
        var (schema, nullBranch) = Unwrap(root, property);
        var types = Types(schema, out var nullType);
        var type = schema.ValueKind == JsonValueKind.Undefined ? ColumnType.Parse("jsonb") : JsonSchemaColumnTypes.Of(schema, types);
        var nullable = nullBranch || nullType || !required;
        var defaultText = DefaultText(property.TryGetProperty("default", out var d) ? d : schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("default", out d) ? d : default, type);
        return new SchemaField(name, type, nullable, nullable || defaultText is not null, defaultText);
    }

    /// <summary>
    /// <paramref name="node"/> with its <c>$ref</c>s followed and a null branch of <c>oneOf</c>/<c>anyOf</c> taken off
    /// (true when there was one); <c>default</c> (Undefined) when it refers outside the document, or several non-null branches remain.
    /// </summary>
    private static (JsonElement Schema, bool NullBranch) Unwrap(JsonElement root, JsonElement node)
    {
        var nullBranch = false;
        for (var step = 0; step < MaxReferences; step++)
        {
            if (node.ValueKind != JsonValueKind.Object)
            {
                // true / false schemas: anything (or nothing) goes.
                return (default, nullBranch);
            }

            if (node.TryGetProperty("$ref", out var reference))
            {
                if (Pointer(root, reference.GetString()) is not { } target)
                {
                    return (default, nullBranch);
                }

                node = target;
                continue;
            }

            var branches = Branches(node);
            if (branches is null)
            {
                return (node, nullBranch);
            }

            var nonNull = branches.Where(b => !IsNullOnly(b)).ToList();
            nullBranch |= nonNull.Count < branches.Count;
            if (nonNull.Count != 1)
            {
                return (default, nullBranch);
            }

            node = nonNull[0];
        }

        throw new FormatException($"the JSON Schema's $refs go in a circle (more than {MaxReferences} in a row)");
    }

    private static List<JsonElement>? Branches(JsonElement node)
    {
        foreach (var keyword in new[] { "oneOf", "anyOf" })
        {
            if (node.TryGetProperty(keyword, out var branches) && branches.ValueKind == JsonValueKind.Array)
            {
                return [.. branches.EnumerateArray()];
            }
        }

        return null;
    }

    private static bool IsNullOnly(JsonElement branch) =>
        branch.ValueKind == JsonValueKind.Object && branch.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "null";

    /// <summary>A JSON pointer within the document (<c>#/definitions/Customer</c>); null for any other reference.</summary>
    private static JsonElement? Pointer(JsonElement root, string? reference)
    {
        if (reference is null || !reference.StartsWith('#'))
        {
            return null;
        }

        var node = root;
        foreach (var token in reference[1..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = Uri.UnescapeDataString(token).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty(name, out node))
            {
                return null;
            }
        }

        return node;
    }

    private static List<string> Types(JsonElement schema, out bool nullType)
    {
        nullType = false;
        if (schema.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("type", out var type))
        {
            return [];
        }

        var names = type.ValueKind == JsonValueKind.Array
            ? type.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToList()
            : type.ValueKind == JsonValueKind.String ? [type.GetString()!] : [];
        nullType = names.Remove("null");
        return names;
    }

    private static bool IsObject(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object
        && (schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object
            || schema.TryGetProperty("allOf", out var members) && members.ValueKind == JsonValueKind.Array)
        && Types(schema, out _) is [] or ["object"];

    /// <summary>A Debezium envelope's row image: the object schema of <c>after</c> (or <c>before</c>).</summary>
    private static JsonElement RowImage(JsonElement root, JsonElement envelope)
    {
        if (IsObject(envelope) && envelope.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var name in new[] { "after", "before" })
            {
                if (properties.TryGetProperty(name, out var image) && Unwrap(root, image).Schema is var row && IsObject(row))
                {
                    return row;
                }
            }
        }

        throw new FormatException("format debezium needs a Debezium envelope schema (an object with after and before), and this JSON Schema has neither");
    }

    private static string Describe(JsonElement schema) => schema.ValueKind == JsonValueKind.Undefined
        ? "not one object schema"
        : Types(schema, out _) switch
        {
            [var one] => one,
            [] => "without properties",
            var several => string.Join(" or ", several),
        };

    /// <summary>A scalar default as column default text, for scalar columns only (as for Avro).</summary>
    private static string? DefaultText(JsonElement value, ColumnType type)
    {
        if (type.IsArray || type.Scalar is ScalarType.Bytea or ScalarType.Jsonb or ScalarType.Json)
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
    }
}
