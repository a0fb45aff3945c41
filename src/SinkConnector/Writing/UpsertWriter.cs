using System.Collections;
using Npgsql;
using SinkConnector.Engine;
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
    /// <param name="progress">Told of every statement: a merge of several statements may take longer than any one of them.</param>
    public static async Task<int> WriteAsync(
        NpgsqlConnection connection, MappingConfig mapping, IEnumerable<RowChange> changes, CancellationToken cancellationToken, WriteProgress? progress = null)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var rules = UpsertRules.Of(mapping);
        var all = changes as IReadOnlyCollection<RowChange> ?? [.. changes];
        // A Debezium mapping takes the plain path too as long as no change of the batch carries a placeholder.
        if (!rules.None || (mapping.KeepUnavailableValues && all.Any(c => c.Kept is not null)))
        {
            return await WriteWithRulesAsync(connection, mapping, rules, all, progress, cancellationToken);
        }

        changes = all;
        var keys = mapping.KeyIndexes();
        var final = FinalChanges(keys, changes);
        var writes = final.Where(c => c.Kind == ChangeKind.Write).ToList();
        var deletes = final.Where(c => c.Kind == ChangeKind.Delete).Select(c => c.Values).ToList();
        var stage = Interlocked.Increment(ref s_stage);
        // Each key is in at most one list, so the order of the two statements does not matter.
        if (deletes.Count > 0)
        {
            var staging = Sql.Quote($"sink_delete_{stage}");
            progress?.Set($"upserting into {mapping.Table}: staging {deletes.Count} delete(s)");
            await Sql.ExecuteAsync(connection, CreateStagingSql(mapping, keys, staging), cancellationToken);
            await RowCopier.CopyAsync(connection, staging, mapping, keys, deletes, cancellationToken);
            progress?.Set($"upserting into {mapping.Table}: deleting {deletes.Count} key(s)");
            await Sql.ExecuteAsync(connection, DeleteSql(mapping, keys, staging), cancellationToken);
        }

        if (writes.Count > 0)
        {
            var staging = Sql.Quote($"sink_upsert_{stage}");
            progress?.Set($"upserting into {mapping.Table}: staging {writes.Count} write(s)");
            await Sql.ExecuteAsync(connection, CreateStagingSql(mapping, RowCopier.AllColumns(mapping), staging), cancellationToken);
            await RowCopier.CopyAsync(connection, staging, mapping, writes, cancellationToken);
            progress?.Set($"upserting into {mapping.Table}: merging {writes.Count} write(s)");
            await Sql.ExecuteAsync(connection, MergeSql(mapping, staging), cancellationToken);
        }

        return writes.Count + deletes.Count;
    }

    /// <summary>
    /// <c>newer_by</c>, <c>update_columns</c>, <c>on_null: keep</c> or unavailable values: the changes folded by
    /// <see cref="UpsertFold"/>, each layer a delete statement and one merge per set of kept columns (almost always one).
    /// </summary>
    private static async Task<int> WriteWithRulesAsync(
        NpgsqlConnection connection, MappingConfig mapping, UpsertRules rules, IEnumerable<RowChange> changes, WriteProgress? progress, CancellationToken cancellationToken)
    {
        var keys = mapping.KeyIndexes();
        var deleteColumns = rules.NewerBy < 0 ? keys : [.. keys, rules.NewerBy];
        var written = 0;
        foreach (var (deletes, writes) in new UpsertFold(mapping, rules).Fold(changes))
        {
            var stage = Interlocked.Increment(ref s_stage);
            // A key may be in both lists: its delete comes first, as in the message order.
            if (deletes.Count > 0)
            {
                var staging = Sql.Quote($"sink_delete_{stage}");
                progress?.Set($"upserting into {mapping.Table}: staging {deletes.Count} delete(s)");
                await Sql.ExecuteAsync(connection, CreateStagingSql(mapping, deleteColumns, staging), cancellationToken);
                await RowCopier.CopyAsync(connection, staging, mapping, deleteColumns, deletes.Select(d => d.Values), cancellationToken);
                progress?.Set($"upserting into {mapping.Table}: deleting {deletes.Count} key(s)");
                await Sql.ExecuteAsync(connection, DeleteSql(mapping, keys, staging, rules), cancellationToken);
            }

            // Writes that keep different stored columns need different SET lists: one statement per set.
            var group = 0;
            foreach (var sameKept in writes.GroupBy(w => KeptUpdates(w, rules)))
            {
                var staging = Sql.Quote($"sink_upsert_{stage}_{group++}");
                progress?.Set($"upserting into {mapping.Table}: staging writes");
                await Sql.ExecuteAsync(connection, CreateStagingSql(mapping, RowCopier.AllColumns(mapping), staging), cancellationToken);
                await RowCopier.CopyAsync(connection, staging, mapping, sameKept, cancellationToken);
                progress?.Set($"upserting into {mapping.Table}: merging writes");
                await Sql.ExecuteAsync(connection, MergeSql(mapping, staging, rules, sameKept.Key), cancellationToken);
            }

            written += deletes.Count + writes.Count;
        }

        return written;
    }

    /// <summary>The updated columns a write keeps as stored (Debezium placeholders), as a text key for grouping: "" for none.</summary>
    private static string KeptUpdates(RowChange write, UpsertRules rules) =>
        write.Kept is not { } kept ? "" : string.Join(",", Enumerable.Range(0, kept.Length).Where(c => kept[c] && rules.Updated[c]));

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

    /// <summary>
    /// The merge under upsert rules: updates set the updated columns but those in <paramref name="kept"/> (column
    /// positions, "1,4"), COALESCE the on_null: keep ones with the stored value, and apply only to a stored row whose
    /// newer_by value is null or smaller. An insert sets every column (a kept one is null in the staged row).
    /// </summary>
    public static string MergeSql(MappingConfig mapping, string staging, UpsertRules rules, string kept)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentNullException.ThrowIfNull(rules);
        var skip = kept.Length == 0 ? [] : kept.Split(',').Select(int.Parse).ToHashSet();
        var all = ColumnList(mapping, [.. Enumerable.Range(0, mapping.Columns.Count)]);
        var updates = new List<string>();
        for (var c = 0; c < mapping.Columns.Count; c++)
        {
            if (rules.Updated[c] && !skip.Contains(c))
            {
                var name = Sql.Quote(mapping.Columns[c].Name);
                updates.Add(rules.KeepOnNull[c] ? $"{name} = COALESCE(EXCLUDED.{name}, t.{name})" : $"{name} = EXCLUDED.{name}");
            }
        }

        var action = updates.Count == 0 ? "DO NOTHING" : "DO UPDATE SET " + string.Join(", ", updates);
        if (updates.Count > 0 && rules.NewerBy >= 0)
        {
            var version = Sql.Quote(mapping.Columns[rules.NewerBy].Name);
            action += $" WHERE t.{version} IS NULL OR t.{version} < EXCLUDED.{version}";
        }

        return $"INSERT INTO {Sql.Quote(mapping.Table)} AS t ({all}) SELECT {all} FROM {staging} " +
               $"ON CONFLICT ({ColumnList(mapping, mapping.KeyIndexes())}) {action}";
    }

    /// <summary>Under newer_by, a delete removes only a stored row no newer than itself; a delete without a version removes any.</summary>
    public static string DeleteSql(MappingConfig mapping, int[] keys, string staging, UpsertRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var sql = DeleteSql(mapping, keys, staging);
        if (rules.NewerBy < 0)
        {
            return sql;
        }

        var version = Sql.Quote(mapping.Columns[rules.NewerBy].Name);
        return sql + $" AND (d.{version} IS NULL OR t.{version} IS NULL OR t.{version} <= d.{version})";
    }

    public static string DeleteSql(MappingConfig mapping, int[] keys, string staging) =>
        $"DELETE FROM {Sql.Quote(mapping.Table)} AS t USING {staging} AS d WHERE " +
        string.Join(" AND ", keys.Select(i => Sql.Quote(mapping.Columns[i].Name)).Select(c => $"t.{c} = d.{c}"));

    private static string ColumnList(MappingConfig mapping, int[] columns) =>
        string.Join(", ", columns.Select(i => Sql.Quote(mapping.Columns[i].Name)));

    /// <summary>Equality of the key columns only; structural for byte[] and array values (bytea, text[] keys).</summary>
    internal sealed class KeyComparer(int[] keys) : IEqualityComparer<object?[]>
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
