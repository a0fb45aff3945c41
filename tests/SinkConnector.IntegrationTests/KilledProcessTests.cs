using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>The real <c>sink</c> process killed and paused the way orchestrators and bad hosts do it.</summary>
public class KilledProcessTests(TestServices services)
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Killed_process_resumes_from_database_offsets_without_duplicates()
    {
        const int total = 50_000, partitions = 6, kills = 5;
        await using var bed = await SinkTestBed.CreateAsync(services, "killed", partitions);
        var random = new Random();
        var produced = 0;
        for (var kill = 0; kill < kills; kill++)
        {
            // Fresh messages before each run, so every kill lands while there is work in flight.
            await bed.ProduceAsync(total / kills, partitions, firstId: produced);
            produced += total / kills;
            await bed.RunAndKillAsync(random);
        }

        await bed.RunToCompletionAsync(total);
        await bed.AssertExactlyOnceAsync(total);
    }

    [Fact]
    public async Task Survivor_takes_over_the_partitions_of_a_killed_peer_exactly_once()
    {
        const int total = 20_000, partitions = 6;
        await using var bed = await SinkTestBed.CreateAsync(services, "takeover", partitions);
        await bed.ProduceAsync(total / 2, partitions);
        using var doomed = bed.StartSink();
        using var survivor = bed.StartSink();
        await bed.WaitForRowsAsync(total / 4, s_catchUp, () => doomed.Output + survivor.Output);

        doomed.Signal(SinkProcess.SIGKILL);
        await doomed.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await bed.ProduceAsync(total / 2, partitions, firstId: total / 2);
        await bed.WaitForRowsAsync(total, s_catchUp, () => survivor.Output);

        survivor.Signal(SinkProcess.SIGTERM);
        await survivor.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(survivor.ExitCode == 0, survivor.Output);
        await bed.AssertExactlyOnceAsync(total);
        Assert.Equal(partitions, await bed.ScalarAsync($"SELECT count(*) FROM sink.offsets WHERE owner LIKE '%/{survivor.Id}/%'"));
    }

    [Fact]
    public async Task Paused_zombie_is_fenced_and_writes_no_duplicates_after_it_resumes()
    {
        const int partitions = 4, chunk = 2_000;
        await using var bed = await SinkTestBed.CreateAsync(services, "zombie", partitions, batch: "max_rows: 100000\n  max_latency: 1500ms");
        await bed.ProduceAsync(chunk, partitions);
        using var zombie = bed.StartSink();
        await bed.WaitForRowsAsync(chunk, s_catchUp, () => zombie.Output);

        // Messages the zombie fetches into its open batch, then it freezes before the batch is due.
        await bed.ProduceAsync(chunk, partitions, firstId: chunk);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        zombie.Signal(SinkProcess.SIGSTOP);

        using var successor = bed.StartSink();
        // The group drops the frozen member after session.timeout.ms; the successor claims and commits.
        await bed.WaitForRowsAsync(2 * chunk, s_catchUp, () => successor.Output);
        Assert.Equal(partitions, await bed.ScalarAsync($"SELECT count(*) FROM sink.offsets WHERE owner LIKE '%/{successor.Id}/%'"));

        zombie.Signal(SinkProcess.SIGCONT);
        await bed.ProduceAsync(chunk, partitions, firstId: 2 * chunk);
        await bed.WaitForRowsAsync(3 * chunk, s_catchUp, () => zombie.Output + successor.Output);
        await Task.Delay(3000, TestContext.Current.CancellationToken); // room for a late zombie commit to show up, if fencing failed

        foreach (var sink in new[] { zombie, successor })
        {
            sink.Signal(SinkProcess.SIGTERM);
            await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
            Assert.True(sink.ExitCode == 0, sink.Output);
        }

        await bed.AssertExactlyOnceAsync(3 * chunk);
        Assert.True(zombie.Output.Contains("Fenced on", StringComparison.Ordinal) || zombie.Output.Contains("Lost ", StringComparison.Ordinal), zombie.Output);
    }

    [Fact]
    public async Task Sigterm_while_waiting_for_Postgres_at_startup_exits_zero_at_once()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "sigstart", partitions: 1);
        // Nothing listens there: the sink waits for Postgres with growing delays, the way it waits in compose.
        var environment = new Dictionary<string, string>(bed.Environment)
        {
            ["SINK_POSTGRES"] = $"Host=127.0.0.1;Port={LocalPorts.Free()};Username=sink;Password=sink;Database=sink",
        };
        using var sink = SinkProcess.Start(["run", "--config", bed.ConfigDirectory], environment);
        await sink.WaitForOutputAsync("retrying in 2 s", TimeSpan.FromSeconds(60));

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(20));

        Assert.True(sink.ExitCode == 0, $"exit {sink.ExitCode}:\n{sink.Output}");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}\n{sink.Output}");
    }

    [Fact]
    public async Task Sigterm_commits_the_open_batch_and_exits_zero_within_the_grace_period()
    {
        const int count = 1_000, partitions = 2;
        // A batch that only closes on shutdown: nothing is written unless SIGTERM commits it.
        await using var bed = await SinkTestBed.CreateAsync(services, "sigterm", partitions, batch: "max_rows: 1000000\n  max_latency: 10m");
        using var sink = bed.StartSink();
        await sink.WaitForOutputAsync("Claimed", TimeSpan.FromSeconds(60));
        await bed.ProduceAsync(count, partitions);
        await Task.Delay(2000, TestContext.Current.CancellationToken);
        Assert.Equal(0, await bed.RowCountAsync());

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(20));

        Assert.True(sink.ExitCode == 0, sink.Output);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"took {stopwatch.Elapsed}");
        Assert.Contains("Stopped cleanly", sink.Output, StringComparison.Ordinal);
        await bed.AssertExactlyOnceAsync(count);
    }
}
