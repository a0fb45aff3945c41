using System.Collections.Concurrent;
using Npgsql;
using SinkConnector.Configuration;

namespace SinkConnector.Writing;

/// <summary>
/// Keeps the partitions of <c>partition:</c> mappings ahead of the clock (<see cref="PartitionWindow"/>). Checked
/// before every batch, but that check is a comparison in memory: the database is asked only at the first batch and
/// when the clock enters a new interval, so about once per interval. The window follows the clock, not the data:
/// a row with a far-future or old timestamp cannot make the sink create partitions; it becomes a dead letter
/// (<see cref="RejectedChange"/>).
/// </summary>
public sealed class PartitionMaintainer(IReadOnlyList<MappingConfig> mappings, TimeProvider time)
{
    private readonly List<MappingConfig> _partitioned = [.. mappings.Where(m => m.Partition is not null).DistinctBy(m => m.Table)];
    // Per table, the interval (start of the current one) whose window was last made sure of. Two writes in flight
    // may both find it due and both create: harmless, the statements are idempotent and queue on one lock.
    private readonly ConcurrentDictionary<TableName, DateTime> _ensuredAt = [];

    /// <summary>Creates what the window lacks, in a transaction of its own (committed before the batch's).</summary>
    public async Task EnsureAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        if (_partitioned.Count == 0)
        {
            return;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var due = _partitioned.Where(m => !_ensuredAt.TryGetValue(m.Table, out var at) || at != PartitionWindow.Floor(now, m.Partition!.Interval)).ToList();
        if (due.Count == 0)
        {
            return;
        }

        await CreateAsync(dataSource, due, now, cancellationToken);
        foreach (var mapping in due)
        {
            _ensuredAt[mapping.Table] = PartitionWindow.Floor(now, mapping.Partition!.Interval);
        }
    }

    /// <summary>
    /// Under the advisory lock of <c>auto_create</c>: two sinks creating the same partition at once would otherwise
    /// race in the catalog (a unique violation on pg_type) despite IF NOT EXISTS; queued, the second finds it there.
    /// </summary>
    public static async Task CreateAsync(NpgsqlDataSource dataSource, IEnumerable<MappingConfig> mappings, DateTime utcNow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await TableManager.LockAsync(connection, transaction, cancellationToken);
        foreach (var sql in mappings.SelectMany(m => PartitionWindow.CreateSql(m, utcNow)))
        {
            await transaction.SaveAsync("sink_partition", cancellationToken);
            try
            {
                await using var command = new NpgsqlCommand(sql, connection, transaction);
                await command.ExecuteNonQueryAsync(cancellationToken);
                await transaction.ReleaseAsync("sink_partition", cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidObjectDefinition)
            {
                // "would overlap partition": the range is already covered by a partition of another name (made by
                // hand, or by an earlier interval setting). Its rows have a home, which is all this is for.
                await transaction.RollbackAsync("sink_partition", cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
