namespace SinkConnector.IntegrationTests;

/// <summary>
/// The loop's liveness net (<c>ConsumerLoop.RecoverHungWritesAsync</c>): a write whose stage stops changing for longer
/// than any statement may wait in Postgres is stuck in the process; the loop gives up on it and on the write after
/// it, claims their partitions again and consumes them from the committed offsets. Real Kafka and Postgres, the sink
/// in the test process with a writer that hangs once (<see cref="HangingWriter"/>) and a short timeout instead of
/// twice statement_timeout.
/// </summary>
public sealed class HungWriteTests(TestServices services)
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_write_hung_in_the_process_is_given_up_and_its_partitions_are_consumed_again_exactly_once()
    {
        const int count = 2_000;
        await using var bed = await SinkTestBed.CreateAsync(services, "hung_write", partitions: 2);
        await bed.ProduceAsync(count, partitions: 2);
        HangingWriter? hanging = null;

        var log = await bed.RunInProcessAsync(
            async () =>
            {
                await bed.WaitForCommittedAsync(count, s_catchUp);
                // The given-up write wakes up and goes on in its transaction: it must not commit anything.
                hanging!.Release();
                await hanging.ResumedWriteEnded;
            },
            s_catchUp,
            writer => hanging = new HangingWriter(writer, hangAtCall: 2),
            hungWriteTimeout: TimeSpan.FromSeconds(3));

        Assert.True(hanging!.Hung.IsCompleted);
        Assert.Contains("[1036] A batch write has made no progress for 3 s", log, StringComparison.Ordinal);
        Assert.Contains(": transaction 1: writing rows (", log, StringComparison.Ordinal);
        await bed.AssertExactlyOnceAsync(count);
    }
}
