using System.Text.Json;
using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary><c>sink status</c> run as the real executable, checked against the offsets table and what was produced.</summary>
public class StatusTests(TestServices services)
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);

    private sealed record StoredRow(long? NextOffset, long Epoch, string? Owner, DateTimeOffset UpdatedAt);

    [Fact]
    public async Task Status_matches_the_offsets_table_and_the_watermarks()
    {
        const int partitions = 3;
        await using var bed = await SinkTestBed.CreateAsync(services, "status", partitions);
        var produced = new long[partitions];
        await ProduceAsync(bed, produced, 3_000);

        using (var sink = bed.StartSink())
        {
            // (a) A running sink that has caught up: nothing to consume.
            await bed.WaitForCommittedAsync(3_000, s_catchUp, () => sink.Output);
            var caughtUp = await AssertMatchesTableAsync(bed, produced);
            Assert.Equal(0, caughtUp.GetProperty("totals").GetProperty("lag").GetInt64());

            // A live sink frozen (its rows may even be locked by an open transaction): status still answers, and
            // what was produced since is lag.
            sink.Signal(SinkProcess.SIGSTOP);
            await ProduceAsync(bed, produced, 1_200);
            var frozen = await AssertMatchesTableAsync(bed, produced);
            Assert.Equal(1_200, frozen.GetProperty("totals").GetProperty("lag").GetInt64());
            sink.Signal(SinkProcess.SIGCONT);
            await bed.WaitForCommittedAsync(4_200, s_catchUp, () => sink.Output);

            // While it consumes: each stored offset status shows lies between the table before and after.
            await ProduceAsync(bed, produced, 30_000);
            var before = await StoredRowsAsync(bed);
            var (exit, output) = await SinkProcess.RunToEndAsync(["status", "--config", bed.ConfigDirectory, "--json"], bed.Environment);
            var after = await StoredRowsAsync(bed);
            Assert.True(exit == 0, output);
            foreach (var partition in Partitions(JsonDocument.Parse(output).RootElement))
            {
                var p = partition.GetProperty("partition").GetInt32();
                var next = partition.GetProperty("next_offset").GetInt64();
                Assert.InRange(next, before[p].NextOffset ?? 0, after[p].NextOffset ?? 0);
                Assert.Equal(produced[p], partition.GetProperty("high_watermark").GetInt64());
                Assert.Equal(produced[p] - next, partition.GetProperty("lag").GetInt64());
            }

            await bed.WaitForCommittedAsync(34_200, s_catchUp, () => sink.Output);
            sink.Signal(SinkProcess.SIGTERM);
            await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
            Assert.True(sink.ExitCode == 0, sink.Output);
        }

        // (b) No sink running, and messages produced since it stopped.
        await ProduceAsync(bed, produced, 900);
        var stopped = await AssertMatchesTableAsync(bed, produced);
        Assert.Equal(900, stopped.GetProperty("totals").GetProperty("lag").GetInt64());
        Assert.Equal(0, stopped.GetProperty("totals").GetProperty("never_committed").GetInt32());
    }

    [Fact]
    public async Task Partitions_without_a_stored_offset_lag_by_auto_offset_reset()
    {
        const int partitions = 3;
        await using var bed = await SinkTestBed.CreateAsync(services, "status_unclaimed", partitions);
        // Partitions 0 and 1 get messages; partition 2 is claimed but stays empty, so nothing of it is committed.
        await bed.ProduceAsync(900, partitions: 2);
        await bed.RunInProcessAsync(() => bed.WaitForCommittedAsync(900, s_catchUp), s_catchUp);
        await bed.ProduceAsync(bed.Topic, Enumerable.Range(900, 200).Select(i => (2, SinkTestBed.Event(i))));

        // A second mapped topic the sink never ran on: no rows in the offsets table at all.
        var other = await bed.AddTopicAsync("status-other", partitions: 2);
        var events = await File.ReadAllTextAsync(Path.Combine(bed.ConfigDirectory, "mappings", "events.yaml"), TestContext.Current.CancellationToken);
        await bed.WriteMappingAsync("other.yaml", events.Replace($"topic: {bed.Topic}", $"topic: {other}", StringComparison.Ordinal));
        await bed.ProduceAsync(other, Enumerable.Range(0, 300).Select(i => (i % 2, SinkTestBed.Event(i))));

        var earliest = await StatusJsonAsync(bed);
        Assert.Equal("earliest", earliest.GetProperty("auto_offset_reset").GetString());
        var rows = Partitions(earliest).ToDictionary(p => (p.GetProperty("topic").GetString(), p.GetProperty("partition").GetInt32()));
        Assert.Equal(5, rows.Count);
        AssertPartition(rows[(bed.Topic, 0)], "events", next: 450, high: 450, lag: 0, claimed: true);
        AssertPartition(rows[(bed.Topic, 1)], "events", next: 450, high: 450, lag: 0, claimed: true);
        AssertPartition(rows[(bed.Topic, 2)], "events", next: null, high: 200, lag: 200, claimed: true);
        AssertPartition(rows[(other, 0)], "other", next: null, high: 150, lag: 150, claimed: false);
        AssertPartition(rows[(other, 1)], "other", next: null, high: 150, lag: 150, claimed: false);
        AssertTotals(earliest, partitions: 5, lag: 500, neverCommitted: 3);

        var (exit, table) = await SinkProcess.RunToEndAsync(["status", "--config", bed.ConfigDirectory], bed.Environment);
        Assert.True(exit == 0, table);
        Assert.Contains("totals: 5 partitions, lag 500, 3 never committed", table, StringComparison.Ordinal);
        Assert.Contains("counts high - low (auto_offset_reset: earliest", table, StringComparison.Ordinal);

        // With latest the sink would start at the high watermark: nothing to consume from those partitions.
        var sinkYaml = Path.Combine(bed.ConfigDirectory, "sink.yaml");
        var yaml = await File.ReadAllTextAsync(sinkYaml, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(sinkYaml, yaml.Replace("auto_offset_reset: earliest", "auto_offset_reset: latest", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        var latest = await StatusJsonAsync(bed);
        Assert.Equal("latest", latest.GetProperty("auto_offset_reset").GetString());
        Assert.All(Partitions(latest), p => Assert.Equal(0, p.GetProperty("lag").GetInt64()));
        AssertTotals(latest, partitions: 5, lag: 0, neverCommitted: 3);

        (exit, table) = await SinkProcess.RunToEndAsync(["status", "--config", bed.ConfigDirectory], bed.Environment);
        Assert.True(exit == 0, table);
        Assert.Contains("counts 0 (auto_offset_reset: latest", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_flags_stored_offsets_outside_the_watermarks()
    {
        const int partitions = 3;
        await using var bed = await SinkTestBed.CreateAsync(services, "status_range", partitions);
        await bed.ProduceAsync(90, partitions);
        var (exit, output) = await SinkProcess.RunToEndAsync(
            ["offsets", "reset", "--config", bed.ConfigDirectory, "--topic", bed.Topic, "--to-latest"], bed.Environment);
        Assert.True(exit == 0, output);

        // Partition 1: an offset past the end of the log (a reset from an older version, a topic deleted and
        // re-created). Partition 2: retention deleted offsets 0-19 that the sink never copied (stored: 5).
        await bed.ExecuteAsync($"UPDATE sink.offsets SET next_offset = 99999 WHERE group_id = '{bed.GroupId}' AND partition = 1");
        await bed.ExecuteAsync($"UPDATE sink.offsets SET next_offset = 5 WHERE group_id = '{bed.GroupId}' AND partition = 2");
        if (services.Kafka.Mock is { } mock)
        {
            // The mock cluster does not serve the DeleteRecords request; its own call does the same.
            mock.DeleteRecords(bed.Topic, 2, beforeOffset: 20);
        }
        else
        {
            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = services.Kafka.BootstrapServers }).Build();
            await admin.DeleteRecordsAsync([new TopicPartitionOffset(bed.Topic, 2, 20)]);
        }

        var report = await StatusJsonAsync(bed);
        var rows = Partitions(report).ToDictionary(p => p.GetProperty("partition").GetInt32());
        Assert.Equal(JsonValueKind.Null, rows[0].GetProperty("warning").ValueKind);
        Assert.Equal("beyond_high_watermark", rows[1].GetProperty("warning").GetString());
        Assert.Equal("below_low_watermark", rows[2].GetProperty("warning").GetString());
        Assert.Equal(20, rows[2].GetProperty("low_watermark").GetInt64());
        Assert.Equal(2, report.GetProperty("totals").GetProperty("warnings").GetInt32());

        string table;
        (exit, table) = await SinkProcess.RunToEndAsync(["status", "--config", bed.ConfigDirectory], bed.Environment);
        Assert.True(exit == 0, table);
        Assert.Contains("2 with warnings", table, StringComparison.Ordinal);
        Assert.Contains($"WARNING {bed.Topic}[1]: stored next offset 99999 is beyond the high watermark 30", table, StringComparison.Ordinal);
        Assert.Contains($"WARNING {bed.Topic}[2]: stored next offset 5 is below the low watermark 20: messages 5 to 19 were deleted by retention", table, StringComparison.Ordinal);
        Assert.DoesNotContain($"WARNING {bed.Topic}[0]", table, StringComparison.Ordinal);
        var header = table.Split('\n')[0];
        Assert.Contains("warning", header, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_exits_1_saying_which_server_it_cannot_read()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "status_down", partitions: 1);

        var noPostgres = new Dictionary<string, string>(bed.Environment) { ["SINK_POSTGRES"] = "Host=127.0.0.1;Port=1;Username=sink;Password=x;Database=sink" };
        var (exit, output) = await SinkProcess.RunToEndAsync(["status", "--config", bed.ConfigDirectory], noPostgres);
        Assert.True(exit == 1, output);
        Assert.Contains("sink: Postgres: cannot read sink.offsets -> Failed to connect to 127.0.0.1:1", output, StringComparison.Ordinal);

        var unmigrated = new Dictionary<string, string>(bed.Environment)
        {
            ["SINK_POSTGRES"] = await services.Postgres.CreateDatabaseAsync("status_unmigrated", TestContext.Current.CancellationToken),
        };
        (exit, output) = await SinkProcess.RunToEndAsync(["status", "--config", bed.ConfigDirectory], unmigrated);
        Assert.True(exit == 1, output);
        Assert.Contains($"sink: the connector schema \"sink\" is missing or not migrated to this version; run `sink migrate --config {bed.ConfigDirectory}`", output, StringComparison.Ordinal);

        var noKafka = new Dictionary<string, string>(bed.Environment) { ["KAFKA_BOOTSTRAP"] = "127.0.0.1:1" };
        (exit, output) = await SinkProcess.RunToEndAsync(["status", "--config", bed.ConfigDirectory, "--json"], noKafka);
        Assert.True(exit == 1, output);
        Assert.Contains($"sink: Kafka at 127.0.0.1:1: cannot read the partitions of topic '{bed.Topic}'", output, StringComparison.Ordinal);
    }

    /// <summary>Produces <paramref name="count"/> more events round-robin and counts them per partition.</summary>
    private static async Task ProduceAsync(SinkTestBed bed, long[] produced, int count)
    {
        var firstId = (int)produced.Sum();
        await bed.ProduceAsync(count, produced.Length, firstId);
        for (var i = firstId; i < firstId + count; i++)
        {
            produced[i % produced.Length]++;
        }
    }

    /// <summary>
    /// Runs <c>sink status --json</c> while the offsets table does not change, and checks every partition against
    /// the table and the produced counts, and the totals against the partitions.
    /// </summary>
    private static async Task<JsonElement> AssertMatchesTableAsync(SinkTestBed bed, long[] produced)
    {
        var report = await StatusJsonAsync(bed);
        var table = await StoredRowsAsync(bed);
        var partitions = Partitions(report).ToList();
        Assert.Equal(Enumerable.Range(0, produced.Length), partitions.Select(p => p.GetProperty("partition").GetInt32()));
        foreach (var partition in partitions)
        {
            var p = partition.GetProperty("partition").GetInt32();
            var stored = table[p];
            Assert.Equal(bed.Topic, partition.GetProperty("topic").GetString());
            Assert.Equal("events", partition.GetProperty("mapping").GetString());
            Assert.Equal(stored.NextOffset, partition.GetProperty("next_offset").GetInt64());
            Assert.Equal(stored.Epoch, partition.GetProperty("epoch").GetInt64());
            Assert.Equal(stored.Owner, partition.GetProperty("owner").GetString());
            Assert.Equal(stored.UpdatedAt, partition.GetProperty("updated_at").GetDateTimeOffset());
            Assert.Equal(0, partition.GetProperty("low_watermark").GetInt64());
            Assert.Equal(produced[p], partition.GetProperty("high_watermark").GetInt64());
            Assert.Equal(produced[p] - stored.NextOffset, partition.GetProperty("lag").GetInt64());
        }

        AssertTotals(report, produced.Length, produced.Sum() - table.Values.Sum(r => r.NextOffset ?? 0), neverCommitted: 0);
        return report;
    }

    private static async Task<JsonElement> StatusJsonAsync(SinkTestBed bed)
    {
        var (exit, output) = await SinkProcess.RunToEndAsync(["status", "--config", bed.ConfigDirectory, "--json"], bed.Environment);
        Assert.True(exit == 0, output);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static JsonElement.ArrayEnumerator Partitions(JsonElement report) => report.GetProperty("partitions").EnumerateArray();

    private static async Task<Dictionary<int, StoredRow>> StoredRowsAsync(SinkTestBed bed) =>
        (await bed.QueryAsync(
            $"SELECT partition, next_offset, epoch, owner, updated_at FROM sink.offsets WHERE group_id = '{bed.GroupId}' AND topic = '{bed.Topic}'",
            r => (Partition: r.GetInt32(0), Row: new StoredRow(
                r.IsDBNull(1) ? null : r.GetInt64(1), r.GetInt64(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetFieldValue<DateTimeOffset>(4)))))
        .ToDictionary(p => p.Partition, p => p.Row);

    private static void AssertPartition(JsonElement partition, string mapping, long? next, long high, long lag, bool claimed)
    {
        Assert.Equal(mapping, partition.GetProperty("mapping").GetString());
        Assert.Equal(next, partition.GetProperty("next_offset").ValueKind == JsonValueKind.Null ? (long?)null : partition.GetProperty("next_offset").GetInt64());
        Assert.Equal(next is null, partition.GetProperty("never_committed").GetBoolean());
        Assert.Equal(0, partition.GetProperty("low_watermark").GetInt64());
        Assert.Equal(high, partition.GetProperty("high_watermark").GetInt64());
        Assert.Equal(lag, partition.GetProperty("lag").GetInt64());
        Assert.Equal(claimed, partition.GetProperty("epoch").ValueKind == JsonValueKind.Number);
        Assert.Equal(claimed, partition.GetProperty("owner").ValueKind == JsonValueKind.String);
        Assert.Equal(claimed, partition.GetProperty("updated_at").ValueKind == JsonValueKind.String);
    }

    private static void AssertTotals(JsonElement report, int partitions, long lag, int neverCommitted)
    {
        var totals = report.GetProperty("totals");
        Assert.Equal(partitions, totals.GetProperty("partitions").GetInt32());
        Assert.Equal(lag, totals.GetProperty("lag").GetInt64());
        Assert.Equal(neverCommitted, totals.GetProperty("never_committed").GetInt32());
        Assert.Equal(lag, Partitions(report).Sum(p => p.GetProperty("lag").GetInt64()));
        Assert.Equal(neverCommitted, Partitions(report).Count(p => p.GetProperty("next_offset").ValueKind == JsonValueKind.Null));
    }
}
