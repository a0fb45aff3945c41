using Confluent.Kafka;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Engine;
using SinkConnector.Failures;
using SinkConnector.Mapping;
using SinkConnector.Offsets;
using SinkConnector.PgBinary;
using SinkConnector.Schema;
using SinkConnector.Testing;
using SinkConnector.Writing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// <see cref="BatchTransaction"/> with two writes in flight: the second copies its rows while the first is
/// still running, waits for the first's transaction inside Postgres before its offset check, and is never fenced
/// because the first had not committed yet. Partition 0 of topic <c>fast</c> goes to <c>fast_rows</c>; the first
/// batch also writes partition 0 of <c>slow</c> into <c>slow_rows</c>, which the test keeps locked to hold it back.
/// Partition 0 of <c>child</c> goes to <c>child_rows</c>, whose ids reference <c>fast_rows</c> (a foreign key).
/// </summary>
public class OverlappingWritesTests(TestServices services)
{
    private static readonly TopicPartition s_fast = new("fast", 0);
    private static readonly TopicPartition s_slow = new("slow", 0);
    private static readonly TopicPartition s_fastOther = new("fast", 1);
    private static readonly TopicPartition s_child = new("child", 0);

    [Fact]
    public async Task A_batch_started_while_its_predecessor_runs_waits_for_it_inside_postgres_and_commits_after_it()
    {
        await using var bed = await WriterBed.CreateAsync(services, "overlap_order");
        await using var holdBack = await bed.LockAsync("slow_rows");

        var first = bed.WriteAsync(bed.FirstBatch(), sequence: 0, predecessor: null);
        await bed.FirstHeldBackAsync();
        var second = bed.WriteAsync(bed.SecondBatch(), sequence: 1, predecessor: first);

        // The second copied its rows and now waits for the first's turn.
        await bed.SecondWaitingForTurnAsync();
        Assert.False(second.IsCompleted);

        await holdBack.DisposeAsync();
        var firstResult = await first;
        var secondResult = await second;

        Assert.Equal([s_fast, s_slow], firstResult.Committed.Select(s => s.Partition));
        Assert.Equal([s_fast], secondResult.Committed.Select(s => s.Partition));
        Assert.Empty(firstResult.Fenced);
        Assert.Empty(secondResult.Fenced);
        await bed.AssertEveryRowOnceAsync();
    }

    [Fact]
    public async Task A_batch_whose_predecessor_failed_and_retried_is_written_again_after_it_not_fenced()
    {
        await using var bed = await WriterBed.CreateAsync(services, "overlap_retry");
        await using var holdBack = await bed.LockAsync("slow_rows");
        var firstAttempt = true;

        // What WritePipeline.WriteWithRetriesAsync does for the first batch: its first attempt fails (its backend is
        // terminated while it waits for slow_rows), the retry commits.
        async Task<WriteResult> FirstWithRetry()
        {
            try
            {
                return await bed.WriteAsync(bed.FirstBatch(), sequence: 0, predecessor: null);
            }
            catch (Exception e) when (firstAttempt && PostgresErrors.IsTransient(e))
            {
                firstAttempt = false;
                await Task.Delay(500, Ct);
                return await bed.WriteAsync(bed.FirstBatch(), sequence: 0, predecessor: null);
            }
        }

        var first = FirstWithRetry();
        var blocked = await bed.FirstHeldBackAsync();
        var second = bed.WriteAsync(bed.SecondBatch(), sequence: 1, predecessor: first);
        await bed.SecondWaitingForTurnAsync();

        // The first's transaction ends without a commit: the second's check fails, which must not count as a fence.
        await bed.TerminateAsync(blocked);
        await holdBack.DisposeAsync();
        var firstResult = await first;
        var secondResult = await second;

        Assert.False(firstAttempt);
        Assert.Equal([s_fast, s_slow], firstResult.Committed.Select(s => s.Partition));
        Assert.Empty(secondResult.Fenced);
        Assert.Equal([s_fast], secondResult.Committed.Select(s => s.Partition));
        await bed.AssertEveryRowOnceAsync();
    }

    [Fact]
    public async Task A_batch_whose_predecessor_was_fenced_is_fenced_too()
    {
        await using var bed = await WriterBed.CreateAsync(services, "overlap_fenced");
        await using var holdBack = await bed.LockAsync("slow_rows");

        var first = bed.WriteAsync(bed.FirstBatch(), sequence: 0, predecessor: null);
        await bed.FirstHeldBackAsync();
        var second = bed.WriteAsync(bed.SecondBatch(), sequence: 1, predecessor: first);
        await bed.SecondWaitingForTurnAsync();

        // Another owner claims both partitions meanwhile (it waits for neither write: they check offsets last).
        await new OffsetStore(bed.Database, WriterBed.GroupId, "another-owner").ClaimAsync([s_fast, s_slow], Ct);
        await holdBack.DisposeAsync();
        var firstResult = await first;
        var secondResult = await second;

        Assert.Equal([s_fast, s_slow], firstResult.Fenced.Select(s => s.Partition));
        Assert.Equal([s_fast], secondResult.Fenced.Select(s => s.Partition));
        Assert.Empty(firstResult.Committed);
        Assert.Empty(secondResult.Committed);
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM fast_rows") + await bed.ScalarAsync("SELECT count(*) FROM slow_rows"));
    }

    [Fact]
    public async Task Overlapping_batches_with_the_same_key_end_in_a_deadlock_postgres_resolves_not_a_hang()
    {
        await using var bed = await WriterBed.CreateAsync(services, "overlap_deadlock");
        await using var holdBack = await bed.LockAsync("slow_rows");
        var deadlocks = 0;

        // One retry, as WritePipeline.WriteWithRetriesAsync would do for the deadlock's victim.
        async Task<WriteResult> WithRetry(Func<Task<WriteResult>> write)
        {
            try
            {
                return await write();
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DeadlockDetected)
            {
                Interlocked.Increment(ref deadlocks);
                return await write();
            }
        }

        // The first copies slow_rows (held back) before fast_rows; the second, on another partition, copies ids 50-59
        // of fast_rows first, then waits for the first's turn. Released, the first reaches id 50 and waits for the
        // second: a cycle of two waits, both inside Postgres.
        var first = WithRetry(() => bed.WriteAsync(bed.FirstBatch(slowFirst: true), sequence: 0, predecessor: null));
        await bed.FirstHeldBackAsync();
        var second = WithRetry(() => bed.WriteAsync(bed.DuplicateBatch(), sequence: 1, predecessor: first));
        await bed.SecondWaitingForTurnAsync();
        await holdBack.DisposeAsync();

        var both = Task.WhenAll(first, second);
        Assert.Same(both, await Task.WhenAny(both, Task.Delay(TimeSpan.FromSeconds(30), Ct)));
        Assert.Equal(1, deadlocks);
        // Whichever went first, the other one's ids 50-59 are duplicates: rejected rows, dead-lettered.
        Assert.Equal(100, await bed.ScalarAsync("SELECT count(*) FROM fast_rows"));
        Assert.Equal(10, await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters WHERE error_kind = 'Rejected'"));
        Assert.Equal(10, (await first).DeadLetters.Count + (await second).DeadLetters.Count);
    }

    [Fact]
    public async Task A_child_whose_parent_the_running_predecessor_has_not_committed_is_written_again_after_it_not_dead_lettered()
    {
        await using var bed = await WriterBed.CreateAsync(services, "overlap_fk");
        await using var holdBack = await bed.LockAsync("slow_rows");

        // The first writes the parents (fast_rows 0-99), then waits for slow_rows: its parents are not committed.
        var first = bed.WriteAsync(bed.FirstBatch(), sequence: 0, predecessor: null);
        await bed.FirstHeldBackAsync();
        var second = bed.WriteAsync(bed.ChildBatch(), sequence: 1, predecessor: first);

        // Postgres does not wait for an uncommitted parent: the children's COPY fails at once (23503). While the first
        // still runs the children cannot be called bad rows: the second tries nothing more (no isolating COPYs, no
        // Rejected rows waiting for the first's turn) until the first has ended.
        Assert.Equal((Copies: 1L, Held: false), await bed.ChildCopiesSettledAsync());
        Assert.False(second.IsCompleted);

        await holdBack.DisposeAsync();
        var firstResult = await first;
        var secondResult = await second;

        Assert.Equal([s_fast, s_slow], firstResult.Committed.Select(s => s.Partition));
        Assert.Equal([s_child], secondResult.Committed.Select(s => s.Partition));
        Assert.Empty(secondResult.DeadLetters);
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));
        Assert.Equal(10, await bed.ScalarAsync("SELECT count(*) FROM child_rows c JOIN fast_rows f USING (id)"));
        // One COPY refused while the parents were uncommitted, one after the first committed.
        Assert.Equal(2, await bed.ScalarAsync("SELECT last_value FROM child_copies"));
        Assert.Equal([("child", 10L), ("fast", 100L), ("slow", 10L)], await bed.StoredOffsetsAsync());
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A database with the connector's schema, two tables, both partitions claimed by this bed's owner.</summary>
    private sealed class WriterBed : IAsyncDisposable
    {
        private readonly string _connectionString;
        private readonly MappingConfig _fast = Mapping("fast");
        private readonly MappingConfig _slow = Mapping("slow");
        private readonly MappingConfig _child = Mapping("child");
        private readonly SinkWriter _sink;
        private readonly BatchTransaction _writer;
        private readonly Dictionary<TopicPartition, long> _epochs;

        private WriterBed(string connectionString, SinkDatabase database, OffsetStore offsets, IReadOnlyList<PartitionClaim> claims)
        {
            _connectionString = connectionString;
            Database = database;
            _sink = new SinkWriter([_fast, _slow, _child], database);
            _writer = new BatchTransaction(database, offsets, _sink);
            _epochs = claims.ToDictionary(c => c.Partition, c => c.Epoch);
        }

        public SinkDatabase Database { get; }

        public const string GroupId = "overlap";

        public static async Task<WriterBed> CreateAsync(TestServices services, string name)
        {
            var connectionString = await services.Postgres.CreateDatabaseAsync(name, Ct);
            await ExecuteAsync(connectionString,
                """
                CREATE TABLE fast_rows (id bigint PRIMARY KEY); CREATE TABLE slow_rows (id bigint PRIMARY KEY);
                CREATE TABLE child_rows (id bigint PRIMARY KEY REFERENCES fast_rows (id));
                -- A sequence is not transactional: it counts the COPYs into child_rows, also those rolled back.
                CREATE SEQUENCE child_copies;
                CREATE FUNCTION count_child_copy() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN PERFORM nextval(''child_copies''); RETURN NULL; END';
                CREATE TRIGGER child_copies BEFORE INSERT ON child_rows FOR EACH STATEMENT EXECUTE FUNCTION count_child_copy();
                """);
            var database = new SinkDatabase(new PostgresSettings { ConnectionString = connectionString });
            await SchemaMigrator.MigrateAsync(database, Ct);
            var offsets = new OffsetStore(database, GroupId, "this-owner");
            return new WriterBed(connectionString, database, offsets, await offsets.ClaimAsync([s_fast, s_slow, s_fastOther, s_child], Ct));
        }

        /// <summary>
        /// Offsets 0-99 of <c>fast</c> and 0-9 of <c>slow</c>, in that order unless <paramref name="slowFirst"/>. Tables are
        /// written by mapping order, then name (fast_rows first); slowFirst gives slow's rows a mapping of a lower order.
        /// </summary>
        public WriteBatch FirstBatch(bool slowFirst = false)
        {
            var batch = new WriteBatch(_sink.NewContent());
            if (slowFirst)
            {
                Add(batch, s_slow, _slow with { Order = -1 }, null, 0, 10);
            }

            Add(batch, s_fast, _fast, null, 0, 100);
            if (!slowFirst)
            {
                Add(batch, s_slow, _slow, null, 0, 10);
            }

            return batch;
        }

        /// <summary>Offsets 0-9 of partition 1 of <c>fast</c>, whose ids are 50-59: the ids of offsets 50-59 of partition 0.</summary>
        public WriteBatch DuplicateBatch()
        {
            var batch = new WriteBatch(_sink.NewContent());
            Add(batch, s_fastOther, _fast, null, 0, 10, idOffset: 50);
            return batch;
        }

        /// <summary>Offsets 0-9 of <c>child</c>, whose ids 0-9 reference the rows of offsets 0-9 of <c>fast</c>.</summary>
        public WriteBatch ChildBatch()
        {
            var batch = new WriteBatch(_sink.NewContent());
            Add(batch, s_child, _child, null, 0, 10);
            return batch;
        }

        /// <summary>Offsets 100-199 of <c>fast</c>: it expects the first batch's next offset.</summary>
        public WriteBatch SecondBatch()
        {
            var batch = new WriteBatch(_sink.NewContent());
            Add(batch, s_fast, _fast, 100, 100, 200);
            return batch;
        }

        public Task<WriteResult> WriteAsync(WriteBatch batch, long sequence, Task? predecessor) =>
            Task.Run(() => _writer.WriteAsync(batch, sequence, predecessor, Ct), Ct);

        /// <summary>Holds an exclusive lock on <paramref name="table"/> until disposed.</summary>
        public async Task<IAsyncDisposable> LockAsync(string table)
        {
            var connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync(Ct);
            var transaction = await connection.BeginTransactionAsync(Ct);
            await using (var command = new NpgsqlCommand($"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE", connection, transaction))
            {
                await command.ExecuteNonQueryAsync(Ct);
            }

            return connection;
        }

        /// <summary>Waits until the first write's COPY into slow_rows waits for the test's table lock; returns its backend's pid.</summary>
        public Task<int> FirstHeldBackAsync() =>
            WaitForAsync("the first write blocked on slow_rows", "wait_event_type = 'Lock' AND wait_event = 'relation'");

        /// <summary>Waits until the second write waits for the first's turn: an advisory lock, a wait Postgres sees.</summary>
        public Task<int> SecondWaitingForTurnAsync() =>
            WaitForAsync("the second write waiting for the first's turn", "wait_event_type = 'Lock' AND wait_event = 'advisory'");

        /// <summary>Waits until a backend of this database waits the way <paramref name="condition"/> says; returns its pid.</summary>
        private async Task<int> WaitForAsync(string what, string condition)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                var pids = await TestSql.QueryAsync(_connectionString,
                    $"SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND {condition}",
                    r => r.GetInt32(0));
                if (pids.Count > 0)
                {
                    return pids[0];
                }

                await Task.Delay(50, Ct);
            }

            throw new TimeoutException($"not seen within 30 s: {what}");
        }

        /// <summary>
        /// Once a COPY into child_rows has run: the COPYs so far and whether a transaction still holds the table,
        /// when both stayed the same for a second. That nothing more happens can only be seen over time; a retry, or
        /// the isolation of bad rows, would follow a failed COPY within milliseconds.
        /// </summary>
        public async Task<(long Copies, bool Held)> ChildCopiesSettledAsync()
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            (long, bool)? last = null;
            var since = DateTime.UtcNow;
            while (DateTime.UtcNow < deadline)
            {
                var now = (await TestSql.QueryAsync(_connectionString,
                    """
                    SELECT CASE WHEN is_called THEN last_value ELSE 0 END,
                        EXISTS (SELECT FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                            WHERE d.datname = current_database() AND l.relation = 'child_rows'::regclass AND l.pid <> pg_backend_pid())
                    FROM child_copies
                    """, r => (r.GetInt64(0), r.GetBoolean(1))))[0];
                if (now != last)
                {
                    (last, since) = (now, DateTime.UtcNow);
                }
                else if (now.Item1 > 0 && DateTime.UtcNow - since >= TimeSpan.FromSeconds(1))
                {
                    return now;
                }

                await Task.Delay(50, Ct);
            }

            throw new TimeoutException($"COPYs into child_rows not settled within 30 s: {last}");
        }

        public async Task TerminateAsync(int pid) => await ScalarAsync($"SELECT count(*) FROM (SELECT pg_terminate_backend({pid})) t");

        public async Task<long> ScalarAsync(string sql) => (await TestSql.QueryAsync(_connectionString, sql, r => r.GetInt64(0)))[0];

        /// <summary>Rows of offsets 0-199 and 0-9 exactly once, and the stored next offsets right after them.</summary>
        public async Task AssertEveryRowOnceAsync()
        {
            // The primary keys rule out a row twice.
            Assert.Equal(200, await ScalarAsync("SELECT count(*) FROM fast_rows WHERE id BETWEEN 0 AND 199"));
            Assert.Equal(200, await ScalarAsync("SELECT count(*) FROM fast_rows"));
            Assert.Equal(10, await ScalarAsync("SELECT count(*) FROM slow_rows"));
            Assert.Equal([200L, 10L], await TestSql.QueryAsync(_connectionString,
                "SELECT next_offset FROM sink.offsets WHERE group_id = 'overlap' AND next_offset IS NOT NULL ORDER BY topic", r => r.GetInt64(0)));
        }

        /// <summary>Every stored next offset of this bed's group, by topic.</summary>
        public Task<List<(string Topic, long NextOffset)>> StoredOffsetsAsync() => TestSql.QueryAsync(_connectionString,
            "SELECT topic, next_offset FROM sink.offsets WHERE group_id = 'overlap' AND next_offset IS NOT NULL ORDER BY topic",
            r => (r.GetString(0), r.GetInt64(1)));

        private void Add(WriteBatch batch, TopicPartition partition, MappingConfig mapping, long? expected, long from, long to, long idOffset = 0)
        {
            var slice = batch.Slice(partition, _epochs[partition], expected);
            for (var offset = from; offset < to; offset++)
            {
                // The message is what a rejected row's dead letter is made of.
                var message = new ConsumeResult<byte[]?, byte[]?>
                {
                    TopicPartitionOffset = new TopicPartitionOffset(partition, offset),
                    Message = new Message<byte[]?, byte[]?> { Value = [] },
                };
                ((ConvertedBatch)batch.Content).RowsOf(slice).Add(new RowChange(mapping, ChangeKind.Write, [offset + idOffset], message));
                batch.Count(slice, 8);
            }

            slice.NextOffset = to;
        }

        private static async Task ExecuteAsync(string connectionString, string sql)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(Ct);
            await Sql.ExecuteAsync(connection, sql, Ct);
        }

        private static MappingConfig Mapping(string topic) => new()
        {
            Name = topic,
            File = $"mappings/{topic}.yaml",
            Topics = [topic],
            Table = new TableName("public", $"{topic}_rows"),
            Format = MessageFormat.Json,
            Columns = [new ColumnMapping("id", SourcePath.TryParse("value.id", out var path, out _) ? path! : throw new InvalidOperationException(), ColumnType.Parse("bigint"), Nullable: false, Default: null)],
        };

        public ValueTask DisposeAsync() => Database.DisposeAsync();
    }
}
