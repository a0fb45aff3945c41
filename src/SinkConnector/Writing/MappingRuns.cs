using SinkConnector.Configuration;

namespace SinkConnector.Writing;

/// <summary>
/// A batch's row changes per mapping, as one statement's worth each: all of a mapping's slices together, except where
/// a mapping whose columns come from the schema gained columns mid-batch (<see cref="SchemaColumnsEvolution"/>). Rows
/// of each version are then written with that version's columns, in runs that keep every partition's offset order.
/// </summary>
internal static class MappingRuns
{
    public static IEnumerable<(MappingConfig Mapping, IEnumerable<RowChange> Changes)> Of(IEnumerable<List<RowChange>> slices)
    {
        // A topic has one mapping, so a slice's rows are of one mapping (by name), in offset order.
        foreach (var mapping in slices.Where(r => r.Count > 0).GroupBy(r => r[0].Mapping.Name, StringComparer.Ordinal))
        {
            var runs = new List<(MappingConfig Version, List<IEnumerable<RowChange>> Parts)>();
            foreach (var slice in mapping)
            {
                var start = 0;
                for (var i = 1; i <= slice.Count; i++)
                {
                    if (i < slice.Count && ReferenceEquals(slice[i].Mapping, slice[start].Mapping))
                    {
                        continue;
                    }

                    IEnumerable<RowChange> part = start == 0 && i == slice.Count ? slice : slice.GetRange(start, i - start);
                    if (runs.Count > 0 && ReferenceEquals(runs[^1].Version, slice[start].Mapping))
                    {
                        runs[^1].Parts.Add(part);
                    }
                    else
                    {
                        runs.Add((slice[start].Mapping, [part]));
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
