using SinkConnector.Configuration;

namespace SinkConnector.Writing;

/// <summary>
/// A batch's row changes per mapping, as one statement's worth each, in write order (<see cref="WriteOrder"/>: parents
/// before children, so foreign keys between sink tables hold): all of a mapping's slices together, except where a
/// mapping whose columns come from the schema gained columns mid-batch (<see cref="SchemaColumnsEvolution"/>). Rows of
/// each version are then written with that version's columns, in runs that keep every partition's offset order.
/// </summary>
internal static class MappingRuns
{
    /// <param name="slices">Each partition's changes in offset order; a topic read by several mappings mixes them.</param>
    /// <param name="slicesMixMappings">
    /// Whether a slice may hold rows of several mappings or versions (<see cref="BatchConverter.SlicesMixMappings"/>); when
    /// not, each slice goes by its first row and no other row is looked at.
    /// </param>
    public static IEnumerable<(MappingConfig Mapping, IEnumerable<RowChange> Changes)> Of(IReadOnlyList<List<RowChange>> slices, bool slicesMixMappings = true) =>
        slicesMixMappings ? Mixed(slices) : OnePerSlice(slices);

    private static IEnumerable<(MappingConfig Mapping, IEnumerable<RowChange> Changes)> OnePerSlice(IReadOnlyList<List<RowChange>> slices)
    {
        var byMapping = new Dictionary<MappingConfig, List<List<RowChange>>>(ReferenceEqualityComparer.Instance);
        foreach (var slice in slices.Where(s => s.Count > 0))
        {
            if (!byMapping.TryGetValue(slice[0].Mapping, out var parts))
            {
                parts = [];
                byMapping.Add(slice[0].Mapping, parts);
            }

            parts.Add(slice);
        }

        foreach (var mapping in WriteOrder.Sort(byMapping.Keys))
        {
            var parts = byMapping[mapping];
            yield return (mapping, parts.Count == 1 ? parts[0] : parts.SelectMany(p => p));
        }
    }

    private static IEnumerable<(MappingConfig Mapping, IEnumerable<RowChange> Changes)> Mixed(IReadOnlyList<List<RowChange>> slices)
    {
        var byName = new Dictionary<string, MappingConfig>(StringComparer.Ordinal);
        foreach (var change in slices.SelectMany(r => r))
        {
            byName.TryAdd(change.Mapping.Name, change.Mapping);
        }

        foreach (var name in WriteOrder.Sort(byName.Values).Select(m => m.Name))
        {
            var runs = new List<(MappingConfig Version, List<IEnumerable<RowChange>> Parts)>();
            foreach (var slice in slices)
            {
                // Streamed, not copied into one list (a list per batch is a large-object allocation, and those trigger
                // full GCs); only a slice that holds several mappings' rows is filtered into one of its own.
                var rows = byName.Count == 1 ? slice : slice.FindAll(c => c.Mapping.Name == name);
                var start = 0;
                for (var i = 1; i <= rows.Count; i++)
                {
                    if (i < rows.Count && ReferenceEquals(rows[i].Mapping, rows[start].Mapping))
                    {
                        continue;
                    }

                    IEnumerable<RowChange> part = start == 0 && i == rows.Count ? rows : rows.GetRange(start, i - start);
                    if (runs.Count > 0 && ReferenceEquals(runs[^1].Version, rows[start].Mapping))
                    {
                        runs[^1].Parts.Add(part);
                    }
                    else
                    {
                        runs.Add((rows[start].Mapping, [part]));
                    }

                    start = i;
                }
            }

            foreach (var (version, parts) in runs)
            {
                yield return (version, parts.Count == 1 ? parts[0] : parts.SelectMany(p => p));
            }
        }
    }
}
