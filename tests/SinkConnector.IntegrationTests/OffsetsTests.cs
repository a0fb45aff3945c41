using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

public class OffsetsTests(TestServices services)
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Database_offsets_win_over_kafka_committed_offsets()
    {
        const int partitions = 3;
        await using var bed = await SinkTestBed.CreateAsync(services, "dbwins", partitions);
        await bed.ProduceAsync(3_000, partitions);
        await bed.RunInProcessAsync(() => bed.WaitForRowsAsync(3_000, s_catchUp), s_catchUp);

        // Someone rewinds the group in Kafka (or Kafka's commits were lost): the sink must not care.
        await RewindKafkaCommitsAsync(bed, partitions);

        await bed.ProduceAsync(1_500, partitions, firstId: 3_000);
        await bed.RunInProcessAsync(() => bed.WaitForRowsAsync(4_500, s_catchUp), s_catchUp);
        await Task.Delay(1000, TestContext.Current.CancellationToken); // a sink that resumed from Kafka's offsets would still be re-inserting now

        await bed.AssertExactlyOnceAsync(4_500);
    }

    /// <summary>Commits offset 0 for every partition in Kafka, as a member of the sink's group (the mock broker takes commits only from members).</summary>
    private async Task RewindKafkaCommitsAsync(SinkTestBed bed, int partitions)
    {
        var config = new ConsumerConfig(KafkaTestCluster.ClientProperties.ToDictionary())
        {
            BootstrapServers = services.Kafka.BootstrapServers,
            GroupId = bed.GroupId,
            EnableAutoCommit = false,
        };
        using var rogue = new ConsumerBuilder<byte[], byte[]>(config).Build();
        rogue.Subscribe(bed.Topic);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (rogue.Assignment.Count < partitions && DateTime.UtcNow < deadline)
        {
            await Task.Run(() => rogue.Consume(TimeSpan.FromMilliseconds(200)), TestContext.Current.CancellationToken);
        }

        var offsets = Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(bed.Topic, p, 0)).ToList();
        rogue.Commit(offsets);
        var committed = rogue.Committed(offsets.Select(o => o.TopicPartition), TimeSpan.FromSeconds(10));
        Assert.All(committed, c => Assert.Equal(0, c.Offset.Value));
        rogue.Close();
    }

    [Fact]
    public async Task Offsets_reset_while_running_fences_the_owner_and_redelivers_from_there()
    {
        const int partitions = 2, count = 2_000;
        await using var bed = await SinkTestBed.CreateAsync(services, "reset", partitions);
        await bed.ProduceAsync(count, partitions);
        using var sink = bed.StartSink();
        await bed.WaitForRowsAsync(count, s_catchUp, () => sink.Output);

        var (exit, output) = await SinkProcess.RunToEndAsync(
            ["offsets", "reset", "--config", bed.ConfigDirectory, "--topic", bed.Topic, "--partition", "0", "--to-offset", "400"],
            bed.Environment);
        Assert.True(exit == 0, output);

        // Partition 0 holds count/2 messages; from offset 400 on they are delivered a second time.
        var redelivered = count / 2 - 400;
        await bed.WaitForRowsAsync(count + redelivered, s_catchUp, () => sink.Output);
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        Assert.Equal(count + redelivered, await bed.RowCountAsync());
        Assert.Equal(redelivered, await bed.ScalarAsync(
            "SELECT count(*) FROM (SELECT src_offset FROM public.events WHERE src_partition = 0 GROUP BY src_offset HAVING count(*) = 2) d"));
        Assert.Equal(400, await bed.ScalarAsync(
            "SELECT min(src_offset) FROM (SELECT src_offset FROM public.events WHERE src_partition = 0 GROUP BY src_offset HAVING count(*) = 2) d"));
        Assert.Contains("Fenced on", sink.Output, StringComparison.Ordinal);

        var (showExit, shown) = await SinkProcess.RunToEndAsync(
            ["offsets", "show", "--config", bed.ConfigDirectory, "--topic", bed.Topic], bed.Environment);
        Assert.True(showExit == 0, shown);
        Assert.Contains($"{count / 2}", shown, StringComparison.Ordinal);

        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, sink.Output);
    }

    [Fact]
    public async Task Offsets_reset_refuses_offsets_and_partitions_kafka_does_not_have_and_changes_nothing()
    {
        const int partitions = 2;
        await using var bed = await SinkTestBed.CreateAsync(services, "reset_range", partitions);
        await bed.ProduceAsync(100, partitions);
        string[] Reset(params string[] args) => ["offsets", "reset", "--config", bed.ConfigDirectory, "--topic", bed.Topic, .. args];

        // Past the end of the log: stored, it would make the sink skip every message written until that offset.
        var (exit, output) = await SinkProcess.RunToEndAsync(Reset("--partition", "0", "--to-offset", "99999"), bed.Environment);
        Assert.True(exit == 2, output);
        Assert.Contains($"--to-offset 99999 is outside what Kafka holds for {bed.Topic}[0]: offsets 0 (low watermark) to 50 (high watermark", output, StringComparison.Ordinal);
        Assert.Contains("choose N in [0, 50]", output, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", output, StringComparison.Ordinal);

        // All partitions: each one out of range is named, none is set.
        (exit, output) = await SinkProcess.RunToEndAsync(Reset("--to-offset", "51"), bed.Environment);
        Assert.True(exit == 2, output);
        Assert.Contains($"{bed.Topic}[0]", output, StringComparison.Ordinal);
        Assert.Contains($"{bed.Topic}[1]", output, StringComparison.Ordinal);

        (exit, output) = await SinkProcess.RunToEndAsync(Reset("--partition", "7", "--to-earliest"), bed.Environment);
        Assert.True(exit == 2, output);
        Assert.Contains($"--partition 7: topic '{bed.Topic}' has no partition 7 (its partitions: 0-1)", output, StringComparison.Ordinal);
        Assert.Equal(0, await bed.ScalarAsync($"SELECT count(*) FROM sink.offsets WHERE group_id = '{bed.GroupId}'"));

        // The high watermark itself is the next offset to be written: valid (as --to-latest).
        (exit, output) = await SinkProcess.RunToEndAsync(Reset("--to-offset", "50"), bed.Environment);
        Assert.True(exit == 0, output);
        Assert.Equal(100, await bed.ScalarAsync($"SELECT sum(next_offset) FROM sink.offsets WHERE group_id = '{bed.GroupId}'"));

        // Nothing was skipped: from there on the sink copies every new message.
        await bed.ProduceAsync(bed.Topic, Enumerable.Range(0, 30).Select(i => (i % partitions, SinkTestBed.Event(100 + i))));
        await bed.RunInProcessAsync(() => bed.WaitForRowsAsync(30, s_catchUp), s_catchUp);
        Assert.Equal(30, await bed.ScalarAsync("SELECT count(DISTINCT id) FROM public.events WHERE id >= 100"));
    }

    [Fact]
    public async Task A_stale_foreign_claim_does_not_stall_a_partition_the_group_still_assigns_here()
    {
        // Found by the model check (eng/model, FIX_STALL): a consumer expelled while its claim was on the way lands
        // that claim after the new owner's. The new owner is fenced by a foreign claim, but the group never moves
        // the partition: without re-claiming it, the partition would stay paused forever.
        const int partitions = 2, count = 1_000;
        await using var bed = await SinkTestBed.CreateAsync(services, "stale", partitions);
        await bed.ProduceAsync(count, partitions);
        using var sink = bed.StartSink();
        await bed.WaitForRowsAsync(count, s_catchUp, () => sink.Output);

        await bed.ExecuteAsync(
            $"UPDATE sink.offsets SET epoch = epoch + 1, owner = 'expelled-consumer' WHERE group_id = '{bed.GroupId}' AND partition = 0");
        await sink.WaitForOutputAsync("is claimed by another process", s_catchUp);
        await bed.ProduceAsync(count, partitions, firstId: count);

        await bed.WaitForRowsAsync(2 * count, s_catchUp, () => sink.Output);
        Assert.Contains("claim was stale; claiming it again", sink.Output, StringComparison.Ordinal);
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, sink.Output);
        await bed.AssertExactlyOnceAsync(2 * count);
    }
}
