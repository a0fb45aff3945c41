using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

namespace SinkConnector.Postgres;

/// <summary>Which dead letters an operator command is about; unset criteria match everything, set ones all must match.</summary>
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

/// <summary>Reads and changes <c>&lt;schema&gt;.dead_letters</c> for the <c>sink dlq</c> commands. All dead-letter SQL is here.</summary>
public sealed class DeadLetterStore(SinkDatabase database)
{
    private readonly string _table = Sql.Table(database.Schema, "dead_letters");

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
        return await db.DeadLetters.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, cancellationToken);
    }

    public async Task<int> CountAsync(DeadLetterFilter filter, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        return await Where(db.DeadLetters, filter).CountAsync(cancellationToken);
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
        var where = conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);
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

    private static IQueryable<DeadLetter> Where(IQueryable<DeadLetter> query, DeadLetterFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
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
