using Npgsql;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Postgres restarted, its backends killed, and gone for longer than max.poll.interval.ms, under a running sink.
/// Each test has a server of its own, because these faults would hit every other test's database too.
/// </summary>
public sealed class PostgresOutageTests(TestServices services) : IAsyncLifetime
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);
    private PostgresServer _postgres = null!;

    public async ValueTask InitializeAsync()
    {
        if (!PostgresSelection.FromEnvironment().CanStopAndStart)
        {
            Assert.Skip("stops and restarts Postgres: needs the server the tests start themselves");
        }

        _postgres = await PostgresServer.StartAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }

    [Fact]
    public async Task Restarts_and_terminated_backends_mid_stream_lose_and_duplicate_nothing_and_the_sink_never_exits()
    {
        const int partitions = 4, chunk = 5_000, chunks = 6;
        await using var bed = await SinkTestBed.CreateAsync(services, "restart", partitions, postgres: _postgres);
        using var sink = bed.StartSink();
        var produced = 0;
        for (var i = 0; i < chunks; i++)
        {
            await bed.ProduceAsync(chunk, partitions, firstId: produced);
            produced += chunk;
            // Mid-stream: part of this chunk is committed, the rest is being consumed and written.
            await bed.WaitForRowsAsync(produced - chunk / 2, s_catchUp, sink.OutputAfterDump);
            if (i is 1 or 3)
            {
                await _postgres.RestartAsync(TestContext.Current.CancellationToken);
            }
            else if (i is 2 or 4)
            {
                for (var kill = 0; kill < 5; kill++)
                {
                    await TerminateSinkBackendsAsync(bed);
                    await Task.Delay(100, TestContext.Current.CancellationToken);
                }
            }

            Assert.False(sink.HasExited, sink.Output);
        }

        await bed.WaitForRowsAsync(produced, s_catchUp, sink.OutputAfterDump);
        Assert.False(sink.HasExited, sink.Output);
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, sink.Output);
        await bed.AssertExactlyOnceAsync(produced);
        // The faults did hit the sink: it retried.
        Assert.Contains("retrying", sink.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postgres_down_longer_than_max_poll_interval_keeps_the_group_and_resumes()
    {
        const int partitions = 3, before = 3_000, during = 3_000;
        // librdkafka requires max.poll.interval.ms >= session.timeout.ms (6 s in tests); the outage lasts twice as long.
        var outage = TimeSpan.FromSeconds(20);
        await using var bed = await SinkTestBed.CreateAsync(services, "outage", partitions, postgres: _postgres,
            kafkaProperties: new Dictionary<string, string> { ["max.poll.interval.ms"] = "10000" });
        using var sink = bed.StartSink();
        await bed.ProduceAsync(before, partitions);
        await bed.WaitForRowsAsync(before, s_catchUp, sink.OutputAfterDump);
        var outputBefore = sink.Output.Length;

        await _postgres.StopAsync(TestContext.Current.CancellationToken);
        await bed.ProduceAsync(during, partitions, firstId: before);
        await Task.Delay(outage, TestContext.Current.CancellationToken);
        Assert.False(sink.HasExited, sink.Output);
        await _postgres.StartAgainAsync(TestContext.Current.CancellationToken);

        await bed.WaitForRowsAsync(before + during, s_catchUp, sink.OutputAfterDump);
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, sink.Output);
        await bed.AssertExactlyOnceAsync(before + during);

        var duringOutage = sink.Output[outputBefore..];
        Assert.Contains("pausing", duringOutage, StringComparison.Ordinal);
        // While fetching is held back for the outage the progress line still comes, with the lag of what waits
        // (it used to stop, and its lag froze: the stall of issue #22 could hide behind that).
        Assert.Matches(@"Progress: 0 rows/s, lag [1-9][0-9]* messages", duringOutage);
        // No rebalance: the consumer kept polling, so the group never dropped it.
        Assert.DoesNotContain("Revoked", duringOutage[..duringOutage.IndexOf("Stopping", StringComparison.Ordinal)], StringComparison.Ordinal);
        Assert.DoesNotContain("Lost", duringOutage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readyz_fails_while_Postgres_is_down_and_recovers_while_healthz_stays_ok()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "ready", partitions: 2, postgres: _postgres);
        var http = await bed.EnableHttpAsync();
        using var sink = bed.StartSink();
        await bed.ProduceAsync(500, partitions: 2);
        await bed.WaitForRowsAsync(500, s_catchUp, sink.OutputAfterDump);
        await WaitForStatusAsync(http, "readyz", System.Net.HttpStatusCode.OK, sink);

        await _postgres.StopAsync(TestContext.Current.CancellationToken);
        await bed.ProduceAsync(500, partitions: 2, firstId: 500);
        await WaitForStatusAsync(http, "readyz", System.Net.HttpStatusCode.ServiceUnavailable, sink);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await ObservabilityTests.GetAsync(http, "healthz")).Status);

        await _postgres.StartAgainAsync(TestContext.Current.CancellationToken);
        await WaitForStatusAsync(http, "readyz", System.Net.HttpStatusCode.OK, sink);
        await bed.WaitForRowsAsync(1_000, s_catchUp, sink.OutputAfterDump);
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, sink.Output);
        await bed.AssertExactlyOnceAsync(1_000);
    }

    [Fact]
    public async Task Readyz_follows_Postgres_down_and_up_within_seconds_while_no_message_arrives()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "idleready", partitions: 2, postgres: _postgres);
        var http = await bed.EnableHttpAsync();
        using var sink = bed.StartSink();
        await bed.ProduceAsync(100, partitions: 2);
        await bed.WaitForRowsAsync(100, s_catchUp, sink.OutputAfterDump);
        await WaitForStatusAsync(http, "readyz", System.Net.HttpStatusCode.OK, sink);

        // Drained: from here on no message arrives, so no write tells the sink how Postgres is doing.
        await _postgres.StopAsync(TestContext.Current.CancellationToken);
        await WaitForStatusAsync(http, "readyz", System.Net.HttpStatusCode.ServiceUnavailable, sink, SinkConnector.Observability.SinkHealth.LongOutage + TimeSpan.FromSeconds(10));

        await _postgres.StartAgainAsync(TestContext.Current.CancellationToken);
        await WaitForStatusAsync(http, "readyz", System.Net.HttpStatusCode.OK, sink, TimeSpan.FromSeconds(15));
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, sink.Output);
        await bed.AssertExactlyOnceAsync(100);
    }

    [Fact]
    public async Task A_sink_started_while_Postgres_is_down_waits_for_it_live_but_not_ready()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "startdown", partitions: 2, postgres: _postgres);
        var http = await bed.EnableHttpAsync();
        await _postgres.StopAsync(TestContext.Current.CancellationToken);
        using var sink = bed.StartSink();
        await sink.WaitForOutputAsync("Postgres not reachable at startup", TimeSpan.FromSeconds(60));
        await WaitForStatusAsync(http, "healthz", System.Net.HttpStatusCode.OK, sink);
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, (await ObservabilityTests.GetAsync(http, "readyz")).Status);

        await _postgres.StartAgainAsync(TestContext.Current.CancellationToken);
        await bed.ProduceAsync(400, partitions: 2);
        await bed.WaitForRowsAsync(400, s_catchUp, sink.OutputAfterDump);
        await WaitForStatusAsync(http, "readyz", System.Net.HttpStatusCode.OK, sink);
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, sink.Output);
        await bed.AssertExactlyOnceAsync(400);
    }

    private static async Task WaitForStatusAsync(Uri http, string path, System.Net.HttpStatusCode status, SinkProcess sink, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        (System.Net.HttpStatusCode Status, string Body) last;
        while ((last = await ObservabilityTests.GetAsync(http, path)).Status != status)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"/{path} stayed {last.Status} ({last.Body}), expected {status}\n{sink.Output}");
            }

            await Task.Delay(250, TestContext.Current.CancellationToken);
        }
    }

    private static async Task TerminateSinkBackendsAsync(SinkTestBed bed)
    {
        await using var connection = new NpgsqlConnection(bed.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            connection);
        await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
    }
}
