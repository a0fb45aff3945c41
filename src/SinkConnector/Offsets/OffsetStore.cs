using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using SinkConnector.Schema;

namespace SinkConnector.Offsets;

/// <summary>An owner's claim on a partition: the epoch it holds and where the database says to resume.</summary>
public sealed record PartitionClaim(TopicPartition Partition, long Epoch, long? NextOffset);

/// <summary>A batch's move of one partition's next offset, valid only while its claim (epoch) and the expected offset are stored.</summary>
public readonly record struct OffsetAdvance(TopicPartition Partition, long Epoch, long? ExpectedOffset, long NextOffset);

/// <summary>
/// Reads and writes <c>&lt;schema&gt;.offsets</c>, the heart of the exactly-once protocol
/// (docs/exactly-once.md). All offset SQL is here.
/// </summary>
public sealed class OffsetStore(SinkDatabase database, string groupId, string owner)
{
    private readonly string _table = Sql.Table(database.Schema, "offsets");

    // This process's key for the advisory locks that order its own writes (two-int keys: their own key space).
    private int _turnKey = Random.Shared.Next();

    public string Owner { get; } = owner;

    public string GroupId => groupId;

    /// <summary>
    /// Step 1, assign: bump the epoch of each partition (creating rows for new ones) and read the stored next
    /// offset, in one statement. Synchronous because librdkafka's rebalance callback is: the assignment takes
    /// effect when the callback returns, so the claim must be done by then.
    /// </summary>
    public IReadOnlyList<PartitionClaim> Claim(IReadOnlyCollection<TopicPartition> partitions)
    {
        using var connection = database.DataSource.OpenConnection();
        using var command = ClaimCommand(connection, partitions);
        using var reader = command.ExecuteReader();
        var claims = new List<PartitionClaim>();
        while (reader.Read())
        {
            claims.Add(ToClaim(reader));
        }

        return claims;
    }

    /// <summary>Step 1 outside the rebalance callback: a claim that failed there (Postgres away) is retried from the loop.</summary>
    public async Task<IReadOnlyList<PartitionClaim>> ClaimAsync(IReadOnlyCollection<TopicPartition> partitions, CancellationToken cancellationToken)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var command = ClaimCommand(connection, partitions);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var claims = new List<PartitionClaim>();
        while (await reader.ReadAsync(cancellationToken))
        {
            claims.Add(ToClaim(reader));
        }

        return claims;
    }

    /// <summary>
    /// After a fence: re-claims the partitions whose last claim is still this process's own (an operator reset
    /// bumped the epoch); returns only those. Partitions claimed by another process are not touched: they
    /// normally belong to a newer group generation and the rebalance takes them from this consumer (the consumer
    /// claims them anyway if that does not happen within a session timeout: the other claim was a stale one).
    /// </summary>
    public async Task<IReadOnlyList<PartitionClaim>> ReclaimOwnAsync(IReadOnlyCollection<TopicPartition> partitions, CancellationToken cancellationToken)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            $"""
            UPDATE {_table} o SET epoch = o.epoch + 1, updated_at = now()
            FROM unnest(@topics, @partitions) AS p(topic, partition)
            WHERE o.group_id = @group AND o.topic = p.topic AND o.partition = p.partition AND o.owner = @owner
            RETURNING o.topic, o.partition, o.epoch, o.next_offset
            """, connection);
        AddPartitions(command, partitions);
        command.Parameters.AddWithValue("owner", Owner);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var claims = new List<PartitionClaim>();
        while (await reader.ReadAsync(cancellationToken))
        {
            claims.Add(ToClaim(reader));
        }

        return claims;
    }

    /// <summary>
    /// Step 2, inside the batch transaction: move each partition's next offset forward only if this owner's
    /// epoch and the expected offset are still there. Returns the partitions that did NOT match: fenced.
    /// </summary>
    public async Task<IReadOnlyList<TopicPartition>> AdvanceAsync(NpgsqlConnection connection, IReadOnlyCollection<OffsetAdvance> slices, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"""
            UPDATE {_table} o SET next_offset = u.next_offset, updated_at = now()
            FROM unnest(@topics, @partitions, @epochs, @expected, @next) AS u(topic, partition, epoch, expected, next_offset)
            WHERE o.group_id = @group AND o.topic = u.topic AND o.partition = u.partition
              AND o.epoch = u.epoch AND o.next_offset IS NOT DISTINCT FROM u.expected
            RETURNING o.topic, o.partition
            """, connection);
        AddPartitions(command, slices.Select(s => s.Partition).ToList());
        command.Parameters.Add(new NpgsqlParameter("epochs", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = slices.Select(s => s.Epoch).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("expected", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = slices.Select(s => s.ExpectedOffset).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("next", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = slices.Select(s => s.NextOffset).ToArray() });

        var advanced = new HashSet<TopicPartition>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                advanced.Add(new TopicPartition(reader.GetString(0), reader.GetInt32(1)));
            }
        }

        return slices.Select(s => s.Partition).Where(p => !advanced.Contains(p)).ToList();
    }

    /// <summary>
    /// Inside the transaction of write <paramref name="sequence"/>: an exclusive advisory lock, held until it ends,
    /// that the next write waits for before its offset check (<see cref="AwaitTurnAsync"/>).
    /// </summary>
    public Task HoldTurnAsync(NpgsqlConnection connection, long sequence, CancellationToken cancellationToken) =>
        TurnLockAsync(connection, "pg_advisory_xact_lock", sequence, cancellationToken);

    /// <summary>
    /// Waits, inside Postgres, for the transaction of write <paramref name="sequence"/> to end, then holds a shared
    /// lock on its turn until this transaction ends. Three turns rotate: the write after this one takes a turn that
    /// neither this write holds nor waits on.
    /// </summary>
    public Task AwaitTurnAsync(NpgsqlConnection connection, long sequence, CancellationToken cancellationToken) =>
        TurnLockAsync(connection, "pg_advisory_xact_lock_shared", sequence, cancellationToken);

    /// <summary>
    /// Writes given up on (hung in this process) may still hold their turns until Postgres ends their sessions: the
    /// writes started after them take turns under a new key, so they never wait for those.
    /// </summary>
    public void NewTurns() => Volatile.Write(ref _turnKey, Random.Shared.Next());

    private async Task TurnLockAsync(NpgsqlConnection connection, string function, long sequence, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {function}(@key, @turn)", connection);
        command.Parameters.AddWithValue("key", Volatile.Read(ref _turnKey));
        command.Parameters.AddWithValue("turn", (int)(sequence % 3));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The partitions whose stored epoch is no longer the one given: fenced without this owner having tried to
    /// commit (an operator reset of an idle partition, or a newer owner).
    /// </summary>
    public async Task<IReadOnlyList<TopicPartition>> FindFencedAsync(IReadOnlyCollection<(TopicPartition Partition, long Epoch)> claims, CancellationToken cancellationToken)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            $"""
            SELECT c.topic, c.partition FROM unnest(@topics, @partitions, @epochs) AS c(topic, partition, epoch)
            LEFT JOIN {_table} o ON o.group_id = @group AND o.topic = c.topic AND o.partition = c.partition
            WHERE o.epoch IS DISTINCT FROM c.epoch
            """, connection);
        AddPartitions(command, claims.Select(c => c.Partition).ToList());
        command.Parameters.Add(new NpgsqlParameter("epochs", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = claims.Select(c => c.Epoch).ToArray() });
        var fenced = new List<TopicPartition>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            fenced.Add(new TopicPartition(reader.GetString(0), reader.GetInt32(1)));
        }

        return fenced;
    }

    /// <summary>The stored offsets of one topic (all partitions, or one), for <c>sink offsets show</c>.</summary>
    public async Task<IReadOnlyList<PartitionOffset>> ListAsync(string topic, int? partition, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        return await db.Offsets.AsNoTracking()
            .Where(o => o.GroupId == groupId && o.Topic == topic && (partition == null || o.Partition == partition))
            .OrderBy(o => o.Partition)
            .ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Operator rewind: sets the next offsets and bumps the epochs in one transaction, so a running owner's
    /// next commit is fenced; it then re-claims (the owner column is kept) and seeks to the new offsets.
    /// </summary>
    public async Task ResetAsync(string topic, IReadOnlyDictionary<int, long> nextOffsets, CancellationToken cancellationToken)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            $"""
            INSERT INTO {_table} AS o (group_id, topic, partition, next_offset, epoch, owner, updated_at)
            SELECT @group, p.topic, p.partition, p.next_offset, 1, NULL, now()
            FROM unnest(@topics, @partitions, @next) AS p(topic, partition, next_offset)
            ON CONFLICT (group_id, topic, partition)
            DO UPDATE SET next_offset = EXCLUDED.next_offset, epoch = o.epoch + 1, updated_at = now()
            """, connection);
        var partitions = nextOffsets.Keys.Order().Select(p => new TopicPartition(topic, p)).ToList();
        AddPartitions(command, partitions);
        command.Parameters.Add(new NpgsqlParameter("next", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = partitions.Select(p => nextOffsets[p.Partition.Value]).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private NpgsqlCommand ClaimCommand(NpgsqlConnection connection, IReadOnlyCollection<TopicPartition> partitions)
    {
        var command = new NpgsqlCommand(
            $"""
            INSERT INTO {_table} AS o (group_id, topic, partition, next_offset, epoch, owner, updated_at)
            SELECT @group, p.topic, p.partition, NULL, 1, @owner, now() FROM unnest(@topics, @partitions) AS p(topic, partition)
            ON CONFLICT (group_id, topic, partition)
            DO UPDATE SET epoch = o.epoch + 1, owner = EXCLUDED.owner, updated_at = now()
            RETURNING o.topic, o.partition, o.epoch, o.next_offset
            """, connection);
        AddPartitions(command, partitions);
        command.Parameters.AddWithValue("owner", Owner);
        return command;
    }

    private void AddPartitions(NpgsqlCommand command, IReadOnlyCollection<TopicPartition> partitions)
    {
        command.Parameters.AddWithValue("group", groupId);
        command.Parameters.Add(new NpgsqlParameter("topics", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = partitions.Select(p => p.Topic).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("partitions", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = partitions.Select(p => p.Partition.Value).ToArray() });
    }

    private static PartitionClaim ToClaim(NpgsqlDataReader reader) => new(
        new TopicPartition(reader.GetString(0), reader.GetInt32(1)),
        reader.GetInt64(2),
        reader.IsDBNull(3) ? null : reader.GetInt64(3));
}
