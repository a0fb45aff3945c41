using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Opt-in (<c>SINK_TEST_STALL_HUNT=&lt;rounds&gt;</c>), for hunting the rare stall: every stall seen had the last two
/// writes of one partition hang within seconds of a start, so each round starts the in-process sink on a short backlog
/// twice (stopped after its first commit, then to the end) with a short hung-write limit. A round whose write hangs
/// fails at once with the stage, and with <c>SINK_TEST_DUMP_DIR</c> a dump of this process taken while the given-up
/// write still waits (its await chain in <c>dumpasync</c>).
/// </summary>
public sealed class StallHuntTests(TestServices services)
{
    private static readonly TimeSpan s_round = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Short_backlogs_consumed_after_a_restart_never_leave_a_write_hung()
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("SINK_TEST_STALL_HUNT"), out var n) ? n : 0;
        Assert.SkipWhen(rounds == 0, "opt-in: SINK_TEST_STALL_HUNT=<rounds>");
        const int count = 2_000;
        for (var round = 0; round < rounds; round++)
        {
            await using var bed = await SinkTestBed.CreateAsync(services, $"hunt_{round}", partitions: 2);
            await bed.ProduceAsync(count, partitions: 2);
            await bed.RunInProcessAsync(() => bed.WaitForCommittedAsync(1, s_round), s_round);
            var log = new CollectingLogger();
            await bed.RunInProcessAsync(
                async () =>
                {
                    while (await bed.CommittedAsync() < count)
                    {
                        if (log.Text.Contains("[1036]", StringComparison.Ordinal))
                        {
                            Assert.Fail($"round {round}: a write hung\n{StallDump.Collect(System.Environment.ProcessId)}{log.Text}");
                        }

                        await Task.Delay(200);
                    }
                },
                s_round, hungWriteTimeout: TimeSpan.FromSeconds(15), log: log);
            await bed.AssertExactlyOnceAsync(count);
        }
    }
}
