using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using SinkConnector.Schema;

namespace SinkConnector.DeadLetters;

/// <summary>Which of the connector's dead letters an operator command is about; unset criteria match all of them, set ones all must match.</summary>
public sealed record DeadLetterFilter
{
    public string? Mapping { get; init; }
    public string? Topic { get; init; }
    public string? Kind { get; init; }
    public IReadOnlyCollection<long>? Ids { get; init; }

    /// <summary>Only dead letters created before this time.</summary>
    public DateTimeOffset? Before { get; init; }
}

/// <summary>The first dead letters of a filter (by id) and how many match in all.</summary>
public sealed record DeadLetterPage(IReadOnlyList<DeadLetter> Rows, int Total);

/// <summary>A dead letter that failed again, with the error of this attempt.</summary>
public sealed record DeadLetterError(long Id, string Kind, string Message);

/// <summary>
/// Reads and writes <c>&lt;schema&gt;.dead_letters</c> for one connector (consumer group): the sink's batches add to
/// it, the <c>sink dlq</c> commands read and change it. Connectors sharing the schema never see each other's dead
/// letters. All dead-letter SQL is here.
/// </summary>
public sealed class DeadLetterStore(SinkDatabase database, string groupId)
{
    private readonly string _table = Sql.Table(database.Schema, "dead_letters");

    /// <summary>
    /// Inside the batch transaction: stores the dead letters of a batch. A message that already has a dead letter of
    /// this connector and mapping (read again after an offsets reset, or a batch re-delivered) keeps that one, same id
    /// and created_at, updated with the message as read now and the latest error.
    /// </summary>
    /// <remarks>
    /// Not a COPY, which cannot resolve a conflict: dead letters are rare, and a batch without any never gets here.
    /// </remarks>
    public async Task AddAsync(NpgsqlConnection connection, IEnumerable<DeadLetter> deadLetters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        // ON CONFLICT DO UPDATE may touch a row once per statement: the last dead letter of a message wins.
        var letters = deadLetters
            .GroupBy(d => (d.Topic, d.Partition, d.Offset, d.Mapping))
            .Select(g => g.Last())
            .ToList();
        if (letters.Count == 0)
        {
            return;
        }

        await using var command = new NpgsqlCommand(
            $"""
            INSERT INTO {_table} AS d (group_id, mapping, topic, partition, "offset", kafka_timestamp, key, value, headers, error_kind, error_message)
            SELECT @group, u.mapping, u.topic, u.partition, u."offset", u.kafka_timestamp, u.key, u.value, u.headers::jsonb, u.error_kind, u.error_message
            FROM unnest(@mappings, @topics, @partitions, @offsets, @timestamps, @keys, @values, @headers, @kinds, @messages)
                AS u(mapping, topic, partition, "offset", kafka_timestamp, key, value, headers, error_kind, error_message)
            ON CONFLICT (group_id, topic, partition, "offset", mapping) DO UPDATE SET
                kafka_timestamp = EXCLUDED.kafka_timestamp, key = EXCLUDED.key, value = EXCLUDED.value, headers = EXCLUDED.headers,
                error_kind = EXCLUDED.error_kind, error_message = EXCLUDED.error_message
            """, connection);
        command.Parameters.Add(new NpgsqlParameter("group", NpgsqlDbType.Text) { Value = groupId });
        Add(command, "mappings", NpgsqlDbType.Text, letters.Select(d => d.Mapping).ToArray());
        Add(command, "topics", NpgsqlDbType.Text, letters.Select(d => d.Topic).ToArray());
        Add(command, "partitions", NpgsqlDbType.Integer, letters.Select(d => d.Partition).ToArray());
        Add(command, "offsets", NpgsqlDbType.Bigint, letters.Select(d => d.Offset).ToArray());
        // Npgsql writes timestamptz only from UTC values.
        Add(command, "timestamps", NpgsqlDbType.TimestampTz, letters.Select(d => d.KafkaTimestamp?.UtcDateTime).ToArray());
        Add(command, "keys", NpgsqlDbType.Bytea, letters.Select(d => d.Key).ToArray());
        Add(command, "values", NpgsqlDbType.Bytea, letters.Select(d => d.Value).ToArray());
        Add(command, "headers", NpgsqlDbType.Text, letters.Select(d => d.Headers).ToArray());
        Add(command, "kinds", NpgsqlDbType.Text, letters.Select(d => d.ErrorKind).ToArray());
        Add(command, "messages", NpgsqlDbType.Text, letters.Select(d => d.ErrorMessage).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Add(NpgsqlCommand command, string name, NpgsqlDbType elementType, Array values) =>
        command.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | elementType) { Value = values });

    public async Task<DeadLetterPage> ListAsync(DeadLetterFilter filter, int limit, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        var matching = Where(db.DeadLetters.AsNoTracking(), filter);
        var rows = await matching.OrderBy(d => d.Id).Take(limit).ToListAsync(cancellationToken);
        // Counting is only worth a second query when the page is full.
        var total = rows.Count < limit ? rows.Count : await matching.CountAsync(cancellationToken);
        return new DeadLetterPage(rows, total);
    }

    public async Task<DeadLetter?> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        return await db.DeadLetters.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id && d.GroupId == groupId, cancellationToken);
    }

    public async Task<int> CountAsync(DeadLetterFilter filter, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        return await Where(db.DeadLetters, filter).CountAsync(cancellationToken);
    }

    /// <summary>
    /// Dead letters no connector's commands see: written before dead letters were kept per connector, by a connector
    /// the migration could not tell (group_id NULL).
    /// </summary>
    public async Task<int> CountUnassignedAsync(CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        return await db.DeadLetters.CountAsync(d => d.GroupId == null, cancellationToken);
    }

    /// <summary>Deletes every matching dead letter in one statement; returns how many.</summary>
    public async Task<int> PurgeAsync(DeadLetterFilter filter, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        return await Where(db.DeadLetters, filter).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>
    /// Inside the replay transaction: the matching dead letters, locked until it ends, in (topic, partition, offset)
    /// order. Postgres locks rows after sorting them, so concurrent replays queue in the same order instead of
    /// deadlocking; one that waited skips the rows the other deleted and sees the errors the other updated.
    /// </summary>
    public async Task<IReadOnlyList<DeadLetter>> LockAsync(SinkDbContext db, DeadLetterFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(filter);
        var conditions = new List<string>();
        var parameters = new List<NpgsqlParameter>();
        void Add(string condition, NpgsqlParameter parameter)
        {
            conditions.Add(condition);
            parameters.Add(parameter);
        }

        Add("group_id = @group", new NpgsqlParameter("group", NpgsqlDbType.Text) { Value = groupId });

        if (filter.Mapping is { } mapping)
        {
            Add("mapping = @mapping", new NpgsqlParameter("mapping", NpgsqlDbType.Text) { Value = mapping });
        }

        if (filter.Topic is { } topic)
        {
            Add("topic = @topic", new NpgsqlParameter("topic", NpgsqlDbType.Text) { Value = topic });
        }

        if (filter.Kind is { } kind)
        {
            Add("error_kind = @kind", new NpgsqlParameter("kind", NpgsqlDbType.Text) { Value = kind });
        }

        if (filter.Ids is { } ids)
        {
            Add("id = ANY(@ids)", new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = ids.ToArray() });
        }

        if (filter.Before is { } before)
        {
            Add("created_at < @before", new NpgsqlParameter("before", NpgsqlDbType.TimestampTz) { Value = before.UtcDateTime });
        }

        // Only the quoted table name and the fixed conditions above are spliced in; every value is a parameter.
        var where = "WHERE " + string.Join(" AND ", conditions);
        var sql = $"SELECT * FROM {_table} {where} ORDER BY topic, partition, \"offset\", mapping FOR UPDATE";
        // Not composed over, so EF sends this SQL as it is: FOR UPDATE inside a subquery would lock every row.
        return await db.DeadLetters
            .FromSqlRaw(sql, [.. parameters])
            .AsNoTracking()
            .ToListAsync(cancellationToken);
    }

    /// <summary>Inside the replay transaction: removes the dead letters that are now in their table (or have nothing to write).</summary>
    public static async Task DeleteAsync(SinkDbContext db, IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (ids.Count > 0)
        {
            var array = ids.ToArray();
            await db.DeadLetters.Where(d => array.Contains(d.Id)).ExecuteDeleteAsync(cancellationToken);
        }
    }

    /// <summary>Inside the replay transaction: records why each dead letter failed this time; they stay for a later replay.</summary>
    public async Task UpdateErrorsAsync(SinkDbContext db, IReadOnlyCollection<DeadLetterError> errors, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (errors.Count == 0)
        {
            return;
        }

        var sql = $"""
            UPDATE {_table} d SET error_kind = u.kind, error_message = u.message
            FROM unnest(@ids, @kinds, @messages) AS u(id, kind, message)
            WHERE d.id = u.id
            """;
        await db.Database.ExecuteSqlRawAsync(
            sql,
            [
                new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = errors.Select(e => e.Id).ToArray() },
                new NpgsqlParameter("kinds", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = errors.Select(e => e.Kind).ToArray() },
                new NpgsqlParameter("messages", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = errors.Select(e => e.Message).ToArray() },
            ],
            cancellationToken);
    }

    private IQueryable<DeadLetter> Where(IQueryable<DeadLetter> query, DeadLetterFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        query = query.Where(d => d.GroupId == groupId);
        if (filter.Mapping is { } mapping)
        {
            query = query.Where(d => d.Mapping == mapping);
        }

        if (filter.Topic is { } topic)
        {
            query = query.Where(d => d.Topic == topic);
        }

        if (filter.Kind is { } kind)
        {
            query = query.Where(d => d.ErrorKind == kind);
        }

        if (filter.Ids is { } ids)
        {
            var array = ids.ToArray();
            query = query.Where(d => array.Contains(d.Id));
        }

        if (filter.Before is { } before)
        {
            // Npgsql writes timestamptz parameters only from UTC values.
            var utc = before.ToUniversalTime();
            query = query.Where(d => d.CreatedAt < utc);
        }

        return query;
    }
}
