using System.Globalization;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>Upserts, deletes and several mappings through the real <c>sink</c> process, killed mid-way.</summary>
public class WriteModeTests(TestServices services)
{
    private const int SmallRecordBatch = 16_384;

    [Fact]
    public async Task Upserts_and_tombstones_survive_kills_and_end_with_the_last_value_per_key()
    {
        const int partitions = 4, kills = 4, perRun = 5_000;
        var seed = Random.Shared.Next();
        await using var bed = await SinkTestBed.CreateAsync(services, "upsert", partitions);
        await bed.ExecuteAsync(AccountChanges.TableSql);
        await bed.WriteMappingAsync("events.yaml", AccountChanges.Mapping(bed.Topic));
        // 300 accounts over 20,000 changes: every batch of 500 updates some keys several times.
        var changes = new AccountChanges(partitions, accounts: 300, seed);
        var random = new Random(seed);
        for (var kill = 0; kill < kills; kill++)
        {
            await bed.ProduceAsync(bed.Topic, changes.Next(perRun));
            await bed.RunAndKillAsync(random);

            // Whatever the kill interrupted, the table is exactly the changes below the stored offsets.
            Assert.Equal(changes.Expected(await bed.StoredOffsetsAsync(bed.Topic)), await AccountChanges.ActualAsync(bed));
        }

        await bed.RunToCompletionAsync(changes.Produced);
        var expected = changes.Expected();
        Assert.True(expected.Count < 300, $"seed {seed}: some accounts should end deleted");
        Assert.Equal(expected, await AccountChanges.ActualAsync(bed));
    }

    [Fact]
    public async Task Several_mappings_commit_together_so_a_kill_never_leaves_one_table_ahead()
    {
        const int partitions = 3, kills = 4, perRun = 3_000;
        var seed = Random.Shared.Next();
        // Small record batches and small fetches per partition, so each fetch response interleaves both topics.
        // A real broker returns at least one whole record batch per fetch, and librdkafka's producer puts a
        // partition's 1,000 messages into one: fetches then came one partition at a time, the 500-row batches split
        // exactly at partition ends, no batch held both topics and the last assertion failed.
        await using var bed = await SinkTestBed.CreateAsync(services, "multi", partitions,
            kafkaProperties: new Dictionary<string, string> { ["max.partition.fetch.bytes"] = SmallRecordBatch.ToString(CultureInfo.InvariantCulture) });
        var accountsTopic = await bed.AddTopicAsync("multi-accounts", partitions);
        await bed.ExecuteAsync(AccountChanges.TableSql);
        // Which transactions wrote each table (statement triggers; a killed transaction takes its log rows with it).
        await bed.ExecuteAsync("""
            CREATE TABLE public.writes (tbl text, tx bigint);
            CREATE FUNCTION public.log_write() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN INSERT INTO public.writes VALUES (TG_TABLE_NAME, txid_current()); RETURN NULL; END $$;
            CREATE TRIGGER events_written AFTER INSERT ON public.events FOR EACH STATEMENT EXECUTE FUNCTION public.log_write();
            CREATE TRIGGER accounts_written AFTER INSERT OR UPDATE ON public.accounts FOR EACH STATEMENT EXECUTE FUNCTION public.log_write();
            """);
        await bed.WriteMappingAsync("accounts.yaml", AccountChanges.Mapping(accountsTopic));
        var changes = new AccountChanges(partitions, accounts: 200, seed);
        var random = new Random(seed);
        var events = 0;
        for (var kill = 0; kill < kills; kill++)
        {
            await services.Kafka.ProduceAsync(bed.Topic, Enumerable.Range(events, perRun).Select(i => (i % partitions, SinkTestBed.Event(i))), SmallRecordBatch);
            events += perRun;
            await services.Kafka.ProduceAsync(accountsTopic, changes.Next(perRun), SmallRecordBatch);
            await bed.RunAndKillAsync(random);

            // Both tables agree with the offsets stored with them: neither got ahead of its offsets, nor of the other.
            Assert.Equal(await bed.StoredOffsetsAsync(bed.Topic), await EventsPerPartitionAsync(bed));
            Assert.Equal(changes.Expected(await bed.StoredOffsetsAsync(accountsTopic)), await AccountChanges.ActualAsync(bed));
        }

        await bed.RunToCompletionAsync(events + changes.Produced);
        Assert.Equal(events, await bed.ScalarAsync("SELECT count(DISTINCT id) FROM public.events"));
        Assert.Equal(events, await bed.RowCountAsync());
        Assert.Equal(changes.Expected(), await AccountChanges.ActualAsync(bed));
        // Batches holding both topics wrote both tables in one transaction. (The rows' xmin cannot show it: an
        // account's row carries the transaction of its last update, which may have had no events.)
        Assert.True(await bed.ScalarAsync("SELECT count(*) FROM (SELECT tx FROM public.writes WHERE tbl = 'events' INTERSECT SELECT tx FROM public.writes WHERE tbl = 'accounts') shared") > 0);
    }

    [Fact]
    public async Task Upsert_without_a_unique_index_on_exactly_the_key_is_refused_at_startup()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "nokey", partitions: 1);
        await bed.ExecuteAsync("CREATE TABLE public.accounts (id bigint NOT NULL, balance numeric(14,2), version bigint, src_offset bigint, UNIQUE (id, version))");
        await bed.WriteMappingAsync("events.yaml", AccountChanges.Mapping(bed.Topic));
        var file = Path.Combine(bed.ConfigDirectory, "mappings", "events.yaml");

        foreach (var command in new[] { "validate", "run" })
        {
            var (exit, output) = await SinkProcess.RunToEndAsync([command, "--config", bed.ConfigDirectory], bed.Environment);
            Assert.True(exit == 2, output);
            Assert.Contains($"{file}: key: no primary key or unique index on public.accounts is exactly (id)", output, StringComparison.Ordinal);
        }

        await bed.ExecuteAsync("CREATE UNIQUE INDEX ON public.accounts (id)");
        var (ok, okOutput) = await SinkProcess.RunToEndAsync(["validate", "--config", bed.ConfigDirectory], bed.Environment);
        Assert.True(ok == 0, okOutput);
    }

    /// <summary>Per partition, how far the events table goes: it must be rows 0..n-1 with n the stored next offset.</summary>
    private static async Task<Dictionary<int, long>> EventsPerPartitionAsync(SinkTestBed bed)
    {
        var rows = await bed.QueryAsync(
            "SELECT src_partition, count(*), count(DISTINCT src_offset), max(src_offset) + 1 FROM public.events GROUP BY src_partition",
            r => (Partition: r.GetInt32(0), Rows: r.GetInt64(1), Distinct: r.GetInt64(2), End: r.GetInt64(3)));
        Assert.All(rows, r => Assert.True(r.Rows == r.Distinct && r.Rows == r.End, $"partition {r.Partition}: {r}"));
        return rows.ToDictionary(r => r.Partition, r => r.Rows);
    }
}
