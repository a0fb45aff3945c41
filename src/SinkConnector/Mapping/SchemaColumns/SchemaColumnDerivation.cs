using SinkConnector.Configuration;

namespace SinkConnector.Mapping.SchemaColumns;

/// <summary>A mapping's columns from schema fields: one per field, named after it, unless the mapping overrides it.</summary>
public static class SchemaColumnDerivation
{
    /// <summary>
    /// The mapping with a column per field of <paramref name="fields"/> (in schema order; an override of the same name
    /// takes its place), the key columns (listed, or the fields of <paramref name="keyFields"/> for mode upsert), and
    /// the other overrides after them. Throws <see cref="FormatException"/> when the result cannot run.
    /// </summary>
    public static MappingConfig Derive(MappingConfig mapping, IReadOnlyList<SchemaField> fields, IReadOnlyList<SchemaField> keyFields, SchemaColumnSource source)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(keyFields);
        ArgumentNullException.ThrowIfNull(source);
        var key = mapping.Key.Count > 0 || mapping.Mode != WriteMode.Upsert ? mapping.Key : [.. keyFields.Select(f => f.Name)];
        if (mapping.Mode == WriteMode.Upsert && key.Count == 0)
        {
            throw new FormatException("mode upsert needs key columns: the key schema has no fields; list key: [...]");
        }

        var overrides = mapping.Columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var columns = new List<ColumnMapping>();
        var derived = new HashSet<string>(StringComparer.Ordinal);
        foreach (var field in fields)
        {
            if (overrides.Remove(field.Name, out var written))
            {
                columns.Add(written);
                continue;
            }

            columns.Add(Column(field, "value", isKey: key.Contains(field.Name)));
            derived.Add(field.Name);
        }

        foreach (var name in key.Where(k => columns.All(c => c.Name != k) && !overrides.ContainsKey(k)))
        {
            // A key field the row does not repeat: read from the key.
            var field = keyFields.FirstOrDefault(f => f.Name == name)
                ?? throw new FormatException($"key column '{name}' is neither a field of schema id {source.SchemaId} ({source.Subject}) nor a listed column");
            columns.Add(Column(field, "key", isKey: true));
            derived.Add(name);
        }

        columns.AddRange(mapping.Columns.Where(c => overrides.ContainsKey(c.Name)));
        var result = mapping with { Columns = columns, Key = key, SchemaColumns = source with { Derived = derived } };
        try
        {
            _ = new MessageConverter(result);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"the columns of schema id {source.SchemaId} ({source.Subject}) cannot be converted: {e.Message}", e);
        }

        return result;
    }

    /// <summary>A column for a field a newer schema adds: nullable, since the rows before it have no value for it.</summary>
    public static ColumnMapping AddedColumn(SchemaField field) => Column(field with { Nullable = true }, "value", isKey: false);

    private static ColumnMapping Column(SchemaField field, string document, bool isKey)
    {
        if (!PostgresIdentifiers.TryValidateQuotedIdentifier(field.Name, out var error))
        {
            throw new FormatException($"field '{field.Name}' cannot name a column: {error}; list an override with another name");
        }

        if (!SourcePath.TryParse($"{document}.{field.Name}", out var from, out error))
        {
            throw new FormatException($"field '{field.Name}': {error}");
        }

        // A key column is never null (the row could not be upserted or deleted by it).
        return new ColumnMapping(field.Name, from!, field.Type, field.Nullable && !isKey, field.Default);
    }
}
