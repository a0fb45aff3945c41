using Npgsql;
using SinkConnector.Configuration;

namespace SinkConnector.Writing;

/// <summary>
/// Columns from the schema against an existing table without <c>auto_evolve</c>: optional fields the table has no
/// column for are left out of the mapping (ignored, as a running sink ignores them), so that a restart after a producer
/// registered a schema with a new optional field does not refuse to start.
/// </summary>
public static class SchemaColumnsFit
{
    public static async Task<IReadOnlyList<MappingConfig>> ToTablesAsync(NpgsqlConnection connection, IReadOnlyList<MappingConfig> mappings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mappings);
        var fitted = new List<MappingConfig>(mappings.Count);
        foreach (var mapping in mappings)
        {
            if (mapping.SchemaColumns is not { } source || mapping.AutoEvolve
                || await TableInspector.ColumnsAsync(connection, mapping.Table, cancellationToken) is not { } existing)
            {
                fitted.Add(mapping);
                continue;
            }

            var names = existing.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            var ignored = mapping.Columns.Where(c => source.Derived.Contains(c.Name) && c.Nullable && !names.Contains(c.Name)).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            fitted.Add(ignored.Count == 0 ? mapping : mapping with
            {
                Columns = [.. mapping.Columns.Where(c => !ignored.Contains(c.Name))],
                SchemaColumns = source with { Derived = source.Derived.Where(n => !ignored.Contains(n)).ToHashSet(StringComparer.Ordinal) },
            });
        }

        return fitted;
    }
}
