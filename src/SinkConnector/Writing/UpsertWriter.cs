using System.Collections;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.Schema;

namespace SinkConnector.Writing;

/// <summary>
/// Writes a mode-upsert mapping's share of a batch: the last change per key wins, then the surviving rows are
/// binary-copied into a temporary staging table and merged with INSERT ... ON CONFLICT DO UPDATE, and the surviving
/// deletes are copied into another and applied with DELETE ... USING. Runs inside the batch transaction.
/// </summary>
public static class UpsertWriter
{
    // Staging tables live until commit, and one transaction may stage several times (mappings, bad-row isolation).
    private static long s_stage;

    /// <returns>How many rows were written or deleted after de-duplication.</returns>
    public static async Task<int> WriteAsync(NpgsqlConnection connection, MappingConfig mapping, IEnumerable<RowChange> changes, CancellationToken cancellationToken)
    {
        var keys = mapping.KeyIndexes();
        var final = FinalChanges(keys, changes);
        var writes = final.Where(c => c.Kind == ChangeKind.Write).ToList();
        var deletes = final.Where(c => c.Kind == ChangeKind.Delete).Select(c => c.Values).ToList();
        var stage = Interlocked.Increment(ref s_stage);
        // Each key is in at most one list, so the order of the two statements does not matter.
        if (deletes.Count > 0)
        {
            var staging = Sql.Quote($"sink_delete_{stage}");
            await Sql.ExecuteAsync(connection, CreateStagingSql(mapping, keys, staging), cancellationToken);
            await RowCopier.CopyAsync(connection, staging, mapping, keys, deletes, cancellationToken);
            await Sql.ExecuteAsync(connection, DeleteSql(mapping, keys, staging), cancellationToken);
        }

        if (writes.Count > 0)
        {
            var staging = Sql.Quote($"sink_upsert_{stage}");
            await Sql.ExecuteAsync(connection, CreateStagingSql(mapping, RowCopier.AllColumns(mapping), staging), cancellationToken);
            await RowCopier.CopyAsync(connection, staging, mapping, writes, cancellationToken);
            await Sql.ExecuteAsync(connection, MergeSql(mapping, staging), cancellationToken);
        }

        return writes.Count + deletes.Count;
    }

    /// <summary>
    /// The last change per key, in the order changes were given (partition order): ON CONFLICT DO UPDATE fails when one
    /// statement touches a row twice, and a write then a delete of one key must end deleted, and vice versa.
    /// </summary>
    public static List<RowChange> FinalChanges(int[] keys, IEnumerable<RowChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var last = new Dictionary<object?[], RowChange>(new KeyComparer(keys));
        foreach (var change in changes)
        {
            last[change.Values] = change;
        }

        return [.. last.Values];
    }

    /// <summary>The changes split into layers: the n-th layer holds the n-th change of every key, in the given order.</summary>
    public static List<IReadOnlyList<RowChange>> Layers(int[] keys, IEnumerable<RowChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var seen = new Dictionary<object?[], int>(new KeyComparer(keys));
        var layers = new List<List<RowChange>>();
        foreach (var change in changes)
        {
            var layer = seen.GetValueOrDefault(change.Values);
            seen[change.Values] = layer + 1;
            if (layer == layers.Count)
            {
                layers.Add([]);
            }

            layers[layer].Add(change);
        }

        return [.. layers];
    }

    // CREATE TABLE AS copies the target's column types (with typmods) but no constraints or defaults: the staging
    // table accepts exactly what COPY into the target would, and unmapped NOT NULL columns do not get in the way.
    public static string CreateStagingSql(MappingConfig mapping, int[] columns, string staging) =>
        $"CREATE TEMP TABLE {staging} ON COMMIT DROP AS SELECT {ColumnList(mapping, columns)} FROM {Sql.Quote(mapping.Table)} WITH NO DATA";

    public static string MergeSql(MappingConfig mapping, string staging)
    {
        var all = ColumnList(mapping, [.. Enumerable.Range(0, mapping.Columns.Count)]);
        var updates = mapping.Columns.Where(c => !mapping.Key.Contains(c.Name))
            .Select(c => $"{Sql.Quote(c.Name)} = EXCLUDED.{Sql.Quote(c.Name)}").ToList();
        var action = updates.Count == 0 ? "DO NOTHING" : "DO UPDATE SET " + string.Join(", ", updates);
        return $"INSERT INTO {Sql.Quote(mapping.Table)} ({all}) SELECT {all} FROM {staging} " +
               $"ON CONFLICT ({ColumnList(mapping, mapping.KeyIndexes())}) {action}";
    }

    public static string DeleteSql(MappingConfig mapping, int[] keys, string staging) =>
        $"DELETE FROM {Sql.Quote(mapping.Table)} AS t USING {staging} AS d WHERE " +
        string.Join(" AND ", keys.Select(i => Sql.Quote(mapping.Columns[i].Name)).Select(c => $"t.{c} = d.{c}"));

    private static string ColumnList(MappingConfig mapping, int[] columns) =>
        string.Join(", ", columns.Select(i => Sql.Quote(mapping.Columns[i].Name)));

    /// <summary>Equality of the key columns only; structural for byte[] and array values (bytea, text[] keys).</summary>
    private sealed class KeyComparer(int[] keys) : IEqualityComparer<object?[]>
    {
        public bool Equals(object?[]? x, object?[]? y)
        {
            foreach (var i in keys)
            {
                if (!StructuralComparisons.StructuralEqualityComparer.Equals(x![i], y![i]))
                {
                    return false;
                }
            }

            return true;
        }

        public int GetHashCode(object?[] obj)
        {
            var hash = new HashCode();
            foreach (var i in keys)
            {
                hash.Add(obj[i] is null ? 0 : StructuralComparisons.StructuralEqualityComparer.GetHashCode(obj[i]!));
            }

            return hash.ToHashCode();
        }
    }
}
