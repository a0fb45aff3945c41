using SinkConnector.Configuration;

namespace SinkConnector.Mapping.SchemaColumns;

/// <summary>What a message's writer schema means for a table whose columns came from another schema.</summary>
/// <param name="Added">Optional fields the table has no column for (added when the mapping has <c>auto_evolve</c>, else ignored).</param>
/// <param name="Incompatible">Why the table cannot take messages of this schema (naming the field and both schema ids), or null.</param>
public sealed record EvolutionVerdict(IReadOnlyList<SchemaField> Added, string? Incompatible, string? Field);

/// <summary>Compares a writer schema's row fields with the columns a mapping derived from its schema.</summary>
public static class SchemaEvolution
{
    public static EvolutionVerdict Compare(MappingConfig mapping, IReadOnlyList<SchemaField> writer, int writerId)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(writer);
        var source = mapping.SchemaColumns ?? throw new ArgumentException("the mapping's columns do not come from a schema", nameof(mapping));
        var fields = writer.ToDictionary(f => f.Name, StringComparer.Ordinal);
        foreach (var column in mapping.Columns.Where(c => source.Derived.Contains(c.Name) && c.From.Kind == SourceKind.Value))
        {
            if (!fields.TryGetValue(column.Name, out var field))
            {
                if (!column.Nullable && column.Default is null)
                {
                    return Incompatible(column.Name,
                        $"field '{column.Name}' is required by the table's schema id {source.SchemaId} (column {column.Name} {column.Type} not null) " +
                        $"and the message's schema id {writerId} removed it");
                }

                continue;
            }

            if (field.Type != column.Type)
            {
                return Incompatible(column.Name,
                    $"field '{column.Name}' is {column.Type} in the table's schema id {source.SchemaId} and {field.Type} in the message's schema id {writerId}; " +
                    "column types are never altered");
            }
        }

        var added = new List<SchemaField>();
        foreach (var field in writer.Where(f => mapping.Columns.All(c => c.Name != f.Name)))
        {
            if (!field.Optional)
            {
                return Incompatible(field.Name,
                    $"field '{field.Name}' is new in the message's schema id {writerId} and required (not nullable, no default); " +
                    $"the table's schema id {source.SchemaId} has no column for it and rows before it have no value");
            }

            added.Add(field);
        }

        return new EvolutionVerdict(added, null, null);
    }

    private static EvolutionVerdict Incompatible(string field, string reason) => new([], reason, field);
}
