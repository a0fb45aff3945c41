using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Engine;
using SinkConnector.Failures;
using SinkConnector.Schema;

namespace SinkConnector.Writing;

/// <summary>
/// Writes one mapping's changes inside the connection's open transaction: binary COPY for mode insert, the staged
/// merge of <see cref="UpsertWriter"/> for mode upsert. Optionally isolates the rows Postgres rejects.
/// </summary>
public static class ChangeWriter
{
    /// <summary>
    /// Without <paramref name="isolateBadRows"/>, a rejected row fails the statement and with it the transaction:
    /// the hot path pays nothing for bad rows it does not have. With it, the changes are written under savepoints
    /// and a rejected set is split in halves until the bad changes stand alone: those are returned (to be dead-
    /// lettered), everything else is written. One bad change costs about 2·log2(n) extra statements.
    /// </summary>
    /// <param name="progress">Told of every statement: isolating bad rows takes many, each with its own timeout.</param>
    public static async Task<ChangeWriteResult> WriteAsync(
        NpgsqlConnection connection, MappingConfig mapping, IEnumerable<RowChange> changes, bool isolateBadRows, CancellationToken cancellationToken,
        WriteProgress? progress = null)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        if (!isolateBadRows)
        {
            return new ChangeWriteResult(await WriteAllAsync(connection, mapping, changes, progress, cancellationToken), []);
        }

        // Upserts go in layers (every key's first change, then every key's second, ...) so that each change is
        // applied or rejected on its own, in order: reducing to the last change per key first would lose the
        // earlier changes of a key whose last change is rejected. A layer never holds one key twice.
        var layers = mapping.Mode == WriteMode.Upsert ? UpsertWriter.Layers(mapping.KeyIndexes(), changes) : [[.. changes]];
        var rejected = new List<RejectedChange>();
        var rows = 0;
        foreach (var layer in layers)
        {
            rows += await IsolateAsync(connection, mapping, layer, rejected, progress, cancellationToken);
        }

        return new ChangeWriteResult(rows, rejected);
    }

    private static Task<int> WriteAllAsync(
        NpgsqlConnection connection, MappingConfig mapping, IEnumerable<RowChange> changes, WriteProgress? progress, CancellationToken cancellationToken) =>
        mapping.Mode == WriteMode.Upsert
            ? UpsertWriter.WriteAsync(connection, mapping, changes, cancellationToken, progress)
            : RowCopier.CopyAsync(connection, Sql.Quote(mapping.Table), mapping, changes, cancellationToken);

    private static async Task<int> IsolateAsync(
        NpgsqlConnection connection, MappingConfig mapping, IReadOnlyList<RowChange> changes, List<RejectedChange> rejected, WriteProgress? progress,
        CancellationToken cancellationToken)
    {
        if (changes.Count == 0)
        {
            return 0;
        }

        progress?.Set($"isolating bad rows of mapping '{mapping.Name}': {changes.Count} row(s) under a savepoint, {rejected.Count} rejected so far");
        await Sql.ExecuteAsync(connection, "SAVEPOINT sink_isolate", cancellationToken);
        try
        {
            var rows = await WriteAllAsync(connection, mapping, changes, progress, cancellationToken);
            await Sql.ExecuteAsync(connection, "RELEASE SAVEPOINT sink_isolate", cancellationToken);
            return rows;
        }
        catch (PostgresException e) when (PostgresErrors.IsDataError(e))
        {
            await Sql.ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT sink_isolate; RELEASE SAVEPOINT sink_isolate", cancellationToken);
            if (changes.Count == 1)
            {
                rejected.Add(new RejectedChange(changes[0], e));
                return 0;
            }
        }

        var half = changes.Count / 2;
        return await IsolateAsync(connection, mapping, changes.Take(half).ToList(), rejected, progress, cancellationToken)
            + await IsolateAsync(connection, mapping, changes.Skip(half).ToList(), rejected, progress, cancellationToken);
    }
}
