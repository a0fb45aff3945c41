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
        using (var rogue = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = services.Kafka.BootstrapServers,
            GroupId = bed.GroupId,
        }).Build())
        {
            rogue.Commit(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(bed.Topic, p, 0)));
        }

        await bed.ProduceAsync(1_500, partitions, firstId: 3_000);
        await bed.RunInProcessAsync(() => bed.WaitForRowsAsync(4_500, s_catchUp), s_catchUp);
        await Task.Delay(1000, TestContext.Current.CancellationToken); // a sink that resumed from Kafka's offsets would still be re-inserting now

        await bed.AssertExactlyOnceAsync(4_500);
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
}
