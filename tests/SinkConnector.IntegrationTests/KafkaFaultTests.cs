using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Kafka misbehaving under the real <c>sink</c> process: failed fetches, a broker going down, leadership moving,
/// group protocol errors during a rebalance, failing offset commits, oversized and value-less messages.
/// librdkafka's errors reach the real consumer loop; the checks are the exactly-once ones of
/// <see cref="SinkTestBed.AssertExactlyOnceAsync"/> plus "still running, exits 0 on SIGTERM".
/// </summary>
/// <remarks>
/// Each test gets a mock cluster of its own. Injected errors sit on per-cluster and per-broker stacks that any
/// client's next matching request pops, and a broker taken down drops every connection to it: on the cluster
/// shared by the whole (parallel) test run they would hit other tests' clients and miss this test's sink.
/// </remarks>
public partial class KafkaFaultTests(TestServices services)
{
    private const int Partitions = 6;

    // The mock brokers are 1..3; the group coordinator is pinned to broker 1 so group faults go where the group is.
    private const int Coordinator = 1;

    private static readonly TimeSpan s_catchUp = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Fetch_errors_and_a_broker_down_and_up_lose_and_duplicate_nothing()
    {
        const int total = 20_000;
        await using var bed = await FaultBed.CreateAsync(services, "fetchfault", Partitions);
        // Leaders spread over all brokers: 0,3 -> 1; 1,4 -> 2; 2,5 -> 3 (broker 3 goes down below).
        for (var partition = 0; partition < Partitions; partition++)
        {
            bed.Mock.SetPartitionLeader(bed.Topic, partition, partition % 3 + 1);
        }

        using var sink = bed.StartSink();
        var stream = bed.StreamAsync(0, total / 2, chunk: 500, pause: TimeSpan.FromMilliseconds(200));
        await bed.Bed.WaitForRowsAsync(1, s_catchUp, () => sink.Output);

        // Every broker fails its next fetches in each way a leader change, a lagging replica or a slow broker
        // shows up as. librdkafka handles the first kinds (metadata refresh, back off, refetch); a request timeout
        // reaches the application as a consume error; Local_Transport makes the broker drop the connection.
        for (var broker = 1; broker <= 3; broker++)
        {
            bed.Mock.PushBrokerRequestErrors(broker, KafkaApiKey.Fetch,
                (ErrorCode.NotLeaderForPartition, 0),
                (ErrorCode.UnknownTopicOrPart, 0),
                (ErrorCode.LeaderNotAvailable, 50),
                (ErrorCode.RequestTimedOut, 300),
                (ErrorCode.Local_Transport, 0),
                (ErrorCode.KafkaStorageError, 0),
                (ErrorCode.FencedLeaderEpoch, 0),
                (ErrorCode.UnknownLeaderEpoch, 0),
                (ErrorCode.NotLeaderForPartition, 200));
        }

        // An out-of-range answer for an offset that is in range (as after a truncation) makes librdkafka reset the
        // fetch position of broker 2's partitions to the earliest offset: the sink sees messages again that it
        // has committed and must drop them, not write them twice.
        bed.Mock.PushBrokerRequestErrors(2, KafkaApiKey.Fetch, (ErrorCode.OffsetOutOfRange, 0));

        // Partition-level errors hit one partition inside an otherwise good fetch response.
        bed.Mock.PushPartitionRequestErrors(bed.Topic, 1, KafkaApiKey.Fetch,
            ErrorCode.NotLeaderForPartition, ErrorCode.RequestTimedOut, ErrorCode.UnknownLeaderEpoch);
        for (var broker = 1; broker <= 3; broker++)
        {
            await WaitForInjectedErrorsAsync(bed.Mock, broker, KafkaApiKey.Fetch, sink);
        }

        // Leadership moves while fetching: the old leader answers NOT_LEADER, the consumer follows the metadata.
        bed.Mock.SetPartitionLeader(bed.Topic, 0, 2);
        bed.Mock.SetPartitionLeader(bed.Topic, 4, 1);
        await Task.Delay(500, TestContext.Current.CancellationToken);

        // A broker that leads partitions 2 and 5 dies and comes back; its partitions stall meanwhile (no
        // failover in the mock), the others keep flowing. Shorter than session.timeout.ms: not a group matter.
        // Broker 2 is slow meanwhile. The second half of the stream starts with the outage: the messages for
        // partitions 2 and 5 wait in the producer, the others are consumed while the broker is down.
        await stream;
        bed.Mock.SetBrokerDown(3);
        bed.Mock.SetBrokerRtt(2, 300);
        stream = bed.StreamAsync(total / 2, total / 2, chunk: 500, pause: TimeSpan.FromMilliseconds(200));
        var rows = new List<(DateTime At, long Rows)>();
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < 3000)
        {
            rows.Add((DateTime.Now, await bed.Bed.RowCountAsync()));
            await Task.Delay(250, TestContext.Current.CancellationToken);
        }

        Assert.True(rows[^1].Rows > rows[0].Rows, "partitions led by the live brokers stopped while broker 3 was down: "
            + string.Join(", ", rows.Select(r => $"{r.At:HH:mm:ss.fff} {r.Rows}")) + "\n" + sink.Output);
        bed.Mock.SetBrokerUp(3);
        bed.Mock.SetBrokerRtt(2, 0);

        await stream;
        await bed.Bed.WaitForRowsAsync(total, s_catchUp, () => sink.Output);
        Assert.False(sink.HasExited, sink.Output);
        await StopAsync(sink);
        await bed.Bed.AssertExactlyOnceAsync(total);
        // The injected timeout went all the way up to the loop, which logged it and kept consuming.
        Assert.Contains("Request timed out", sink.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("earliest")]
    [InlineData("latest")]
    public async Task Out_of_range_answer_for_a_stored_offset_never_skips_messages(string autoOffsetReset)
    {
        const int half = 1_200;
        await using var bed = await FaultBed.CreateAsync(services, "oorange", Partitions);
        var yaml = Path.Combine(bed.Bed.ConfigDirectory, "sink.yaml");
        await File.WriteAllTextAsync(yaml,
            (await File.ReadAllTextAsync(yaml, TestContext.Current.CancellationToken))
                .Replace("auto_offset_reset: earliest", $"auto_offset_reset: {autoOffsetReset}", StringComparison.Ordinal),
            TestContext.Current.CancellationToken);
        using (var first = bed.StartSink())
        {
            // With 'latest' a partition without a stored offset starts at the end: produce only once it is claimed.
            await WaitUntilAsync(() => Task.FromResult(Held(first).Count == Partitions), () => first.Output);
            await bed.ProduceAsync(0, half);
            await bed.Bed.WaitForRowsAsync(half, s_catchUp, () => first.Output);
            await StopAsync(first);
        }

        // While no sink runs, more messages arrive, and every broker is primed to answer the next fetch with
        // OFFSET_OUT_OF_RANGE, as a lagging new leader does after an unclean leader election (or a truncation). The
        // next sink claims the stored offsets and its first fetches get that answer: librdkafka resets the position by
        // auto.offset.reset. 'earliest' only re-reads what the sink drops as already committed; nothing may be skipped.
        await bed.ProduceAsync(half, half);
        for (var broker = 1; broker <= 3; broker++)
        {
            bed.Mock.PushBrokerRequestErrors(broker, KafkaApiKey.Fetch, (ErrorCode.OffsetOutOfRange, 0));
        }

        using var second = bed.StartSink();
        for (var broker = 1; broker <= 3; broker++)
        {
            await WaitForInjectedErrorsAsync(bed.Mock, broker, KafkaApiKey.Fetch, second);
        }

        // One more message per partition, after the reset has settled (the reset looks up the offset it resets to):
        // once these are in, everything before them must be too.
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        await bed.ProduceAsync(2 * half, Partitions);
        await WaitUntilAsync(async () => await bed.Bed.ScalarAsync($"SELECT count(*) FROM public.events WHERE id >= {2 * half}") == Partitions,
            () => second.Output);
        await Task.Delay(1000, TestContext.Current.CancellationToken); // room for a late duplicate to show up
        await StopAsync(second);
        await bed.Bed.AssertExactlyOnceAsync(2 * half + Partitions);
    }

    [Fact]
    public async Task JoinGroup_and_SyncGroup_errors_delay_but_do_not_break_the_group()
    {
        const int total = 12_000, wave = 3_000;
        await using var bed = await FaultBed.CreateAsync(services, "groupfault", Partitions);
        using var first = bed.StartSink();
        var stream = bed.StreamAsync(0, total, chunk: 500, pause: TimeSpan.FromMilliseconds(250));
        await bed.Bed.WaitForRowsAsync(1, s_catchUp, () => first.Output);

        // Heartbeat errors while the first process is alone: a moving coordinator (re-discover), a rebalance
        // (rejoin), and UNKNOWN_MEMBER_ID, after which the member treats its partitions as lost while it is
        // consuming them and rejoins under a new member id (the old one lingers in the group until it expires).
        bed.Mock.PushBrokerRequestErrors(Coordinator, KafkaApiKey.Heartbeat,
            (ErrorCode.GroupCoordinatorNotAvailable, 0),
            (ErrorCode.NotCoordinatorForGroup, 0),
            (ErrorCode.RebalanceInProgress, 0),
            (ErrorCode.UnknownMemberId, 0));
        await WaitForInjectedErrorsAsync(bed.Mock, Coordinator, KafkaApiKey.Heartbeat, first);

        // Then the coordinator fails the requests of the rebalance a second process starts: loading or moved
        // coordinators (retry after re-discovery) and "rebalance in progress" (join again).
        bed.Mock.PushBrokerRequestErrors(Coordinator, KafkaApiKey.JoinGroup,
            (ErrorCode.GroupLoadInProgress, 0),
            (ErrorCode.GroupCoordinatorNotAvailable, 100),
            (ErrorCode.NotCoordinatorForGroup, 0),
            (ErrorCode.GroupLoadInProgress, 200));
        bed.Mock.PushBrokerRequestErrors(Coordinator, KafkaApiKey.SyncGroup,
            (ErrorCode.RebalanceInProgress, 0),
            (ErrorCode.GroupCoordinatorNotAvailable, 100),
            (ErrorCode.NotCoordinatorForGroup, 0));
        using var second = bed.StartSink();
        await WaitForInjectedErrorsAsync(bed.Mock, Coordinator, KafkaApiKey.JoinGroup, first, second);
        await WaitForInjectedErrorsAsync(bed.Mock, Coordinator, KafkaApiKey.SyncGroup, first, second);
        Assert.Contains(" Lost ", first.Output, StringComparison.Ordinal);

        await stream;
        await bed.Bed.WaitForRowsAsync(total, s_catchUp, () => Outputs(first, second));
        await AssertGroupWorksAsync(bed, total, wave, first, second);
        await StopAsync(first);
        await StopAsync(second);
        await bed.Bed.AssertExactlyOnceAsync(total + wave);
    }

    [Fact]
    public async Task Coordinator_down_past_the_session_timeout_costs_the_assignment_but_no_messages()
    {
        const int total = 12_000, wave = 3_000;
        await using var bed = await FaultBed.CreateAsync(services, "coorddown", Partitions);
        // The partitions are led by brokers 2 and 3, so fetching goes on while the coordinator (1) is away.
        for (var partition = 0; partition < Partitions; partition++)
        {
            bed.Mock.SetPartitionLeader(bed.Topic, partition, partition % 2 + 2);
        }

        using var first = bed.StartSink();
        using var second = bed.StartSink();
        var stream = bed.StreamAsync(0, total, chunk: 500, pause: TimeSpan.FromMilliseconds(250));
        await WaitForSettledGroupAsync(bed, first, second);

        // Longer than session.timeout.ms (6 s): the coordinator expires both members, and each consumer, without
        // a heartbeat answer for that long, gives its partitions up as lost while it is still fetching them. When
        // the coordinator is back they rejoin and claim again (new epochs); whatever a member wrote in between was
        // committed with its old epoch before the new claim, or is fenced.
        bed.Mock.SetBrokerDown(Coordinator);
        await Task.Delay(8000, TestContext.Current.CancellationToken);
        bed.Mock.SetBrokerUp(Coordinator);

        await stream;
        await bed.Bed.WaitForRowsAsync(total, s_catchUp, () => Outputs(first, second));
        Assert.Contains(" Lost ", Outputs(first, second), StringComparison.Ordinal);
        await AssertGroupWorksAsync(bed, total, wave, first, second);
        await StopAsync(first);
        await StopAsync(second);
        await bed.Bed.AssertExactlyOnceAsync(total + wave);
    }

    [Fact]
    public async Task Coordinator_outage_shorter_than_the_session_timeout_does_not_stall_partitions_with_live_leaders()
    {
        const int total = 12_000;
        await using var bed = await FaultBed.CreateAsync(services, "coordstall", Partitions);
        // The partitions are led by brokers 2 and 3: only the group coordinator (1) goes away.
        for (var partition = 0; partition < Partitions; partition++)
        {
            bed.Mock.SetPartitionLeader(bed.Topic, partition, partition % 2 + 2);
        }

        using var sink = bed.StartSink(logLevel: "Debug");
        var stream = bed.StreamAsync(0, total, chunk: 250, pause: TimeSpan.FromMilliseconds(125));
        await bed.Bed.WaitForRowsAsync(1_000, s_catchUp, () => sink.Output);

        // Within the session timeout the member keeps its partitions and their leaders keep answering fetches. The
        // Kafka commit after each batch cannot reach the coordinator, but it is best effort (docs/exactly-once.md): the rows
        // must keep coming.
        bed.Mock.SetBrokerDown(Coordinator);
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        var early = await bed.Bed.RowCountAsync();
        await Task.Delay(3000, TestContext.Current.CancellationToken);
        var late = await bed.Bed.RowCountAsync();
        bed.Mock.SetBrokerUp(Coordinator);

        await stream;
        await bed.Bed.WaitForRowsAsync(total, s_catchUp, () => sink.Output);
        await StopAsync(sink);
        await bed.Bed.AssertExactlyOnceAsync(total);
        Assert.True(late > early, $"no rows written between 1 s and 4 s into the coordinator outage ({early} rows before, {late} after):\n{sink.Output}");
    }

    [Fact]
    public async Task SIGTERM_while_the_coordinator_hangs_exits_0_within_the_grace_with_everything_committed()
    {
        const int total = 4_000;
        var grace = TimeSpan.FromSeconds(20);
        await using var bed = await FaultBed.CreateAsync(services, "leaveaway", Partitions);
        for (var partition = 0; partition < Partitions; partition++)
        {
            bed.Mock.SetPartitionLeader(bed.Topic, partition, partition % 2 + 2);
        }

        using var sink = bed.StartSink();
        await bed.StreamAsync(0, total, chunk: 1_000, pause: TimeSpan.Zero);
        await bed.Bed.WaitForRowsAsync(total, s_catchUp, () => sink.Output);

        // Leaving the group needs the coordinator; the sink must not wait for it past shutdown_grace. A downed mock
        // broker refuses connections (quick failures); a slow one keeps requests in flight, as in the chaos soak.
        bed.Mock.SetBrokerRtt(Coordinator, 60_000);
        await bed.StreamAsync(total, 100, chunk: 100, pause: TimeSpan.Zero);
        await bed.Bed.WaitForRowsAsync(total + 100, s_catchUp, () => sink.Output);
        var stopping = Stopwatch.StartNew();
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(60));
        stopping.Stop();
        bed.Mock.SetBrokerRtt(Coordinator, 0);

        Assert.True(sink.ExitCode == 0, $"exit code {sink.ExitCode}:\n{sink.Output}");
        Assert.Contains("Stopped without leaving the group", sink.Output, StringComparison.Ordinal);
        Assert.True(stopping.Elapsed < grace + TimeSpan.FromSeconds(10), $"took {stopping.Elapsed} to stop (grace {grace}):\n{sink.Output}");
        await bed.Bed.AssertExactlyOnceAsync(total + 100);
    }

    [Fact]
    public async Task Partitions_lost_while_paused_for_a_slow_commit_are_consumed_again_when_they_come_back()
    {
        if (!PostgresSelection.FromEnvironment().CanStopAndStart)
        {
            Assert.Skip("stops Postgres: needs a server the test starts itself");
        }

        const int first = 2_000, after = 500;
        await using var postgres = await PostgresServer.StartAsync(TestContext.Current.CancellationToken);
        await using var bed = await FaultBed.CreateAsync(services, "bplost", Partitions, postgres: postgres);
        using var sink = bed.StartSink();
        await bed.StreamAsync(0, first, chunk: 500, pause: TimeSpan.Zero);
        await bed.Bed.WaitForRowsAsync(first, s_catchUp, () => sink.Output);

        // Postgres away: the next batch cannot commit, so the loop pauses its partitions (backpressure)...
        // Messages keep coming until a batch is due behind the failing one.
        await postgres.StopAsync(TestContext.Current.CancellationToken);
        var during = 0;
        await WaitUntilAsync(async () =>
        {
            await bed.StreamAsync(first + during, 50, chunk: 50, pause: TimeSpan.Zero);
            during += 50;
            return IsHoldingBackForFailedWrites(sink.Output);
        }, () => sink.Output);

        // ...and loses all of them (no coordinator for longer than the session timeout), which empties the batch
        // that was waiting. When they come back and Postgres is up, they must be fetched again, not stay paused.
        bed.Mock.SetBrokerDown(Coordinator);
        await sink.WaitForOutputAsync(" Lost ", s_catchUp);
        bed.Mock.SetBrokerUp(Coordinator);
        await postgres.StartAgainAsync(TestContext.Current.CancellationToken);

        await bed.StreamAsync(first + during, after, chunk: 100, pause: TimeSpan.Zero);
        await bed.Bed.WaitForRowsAsync(first + during + after, s_catchUp, () => sink.Output);
        await StopAsync(sink);
        await bed.Bed.AssertExactlyOnceAsync(first + during + after);
    }

    [Fact]
    public async Task OffsetCommit_errors_are_best_effort_and_do_not_stop_the_sink()
    {
        const int total = 12_000, tail = 600;
        await using var bed = await FaultBed.CreateAsync(services, "commitfault", Partitions);
        using var sink = bed.StartSink(logLevel: "Debug");
        var stream = bed.StreamAsync(0, total, chunk: 400, pause: TimeSpan.FromMilliseconds(150));
        await bed.Bed.WaitForRowsAsync(1, s_catchUp, () => sink.Output);

        // Kafka commits come after the database commit and only feed lag tools (docs/exactly-once.md): however they fail
        // (slow coordinator, moved coordinator, rejected metadata, a rebalance or a generation the member missed),
        // rows and stored offsets must not notice.
        var errors = new (ErrorCode, int)[]
        {
            (ErrorCode.RequestTimedOut, 200),
            (ErrorCode.GroupCoordinatorNotAvailable, 0),
            (ErrorCode.NotCoordinatorForGroup, 0),
            (ErrorCode.GroupLoadInProgress, 0),
            (ErrorCode.OffsetMetadataTooLarge, 0),
            (ErrorCode.UnknownTopicOrPart, 0),
            (ErrorCode.RebalanceInProgress, 0),
            (ErrorCode.Local_Transport, 0),
            (ErrorCode.IllegalGeneration, 0),
        };
        // Once each: commits run beside the loop and coalesce while one is outstanding, so there are fewer
        // OffsetCommit requests than batches.
        bed.Mock.PushBrokerRequestErrors(Coordinator, KafkaApiKey.OffsetCommit, errors);

        await WaitForInjectedErrorsAsync(bed.Mock, Coordinator, KafkaApiKey.OffsetCommit, sink);
        await stream;
        await bed.Bed.WaitForRowsAsync(total, s_catchUp, () => sink.Output);
        Assert.Contains("Kafka offset commit failed", sink.Output, StringComparison.Ordinal);

        // Kafka's committed offsets may lag behind the database but never run ahead of it (read first: a commit
        // landing in between only moves the database further ahead).
        var kafkaCommitted = bed.KafkaCommitted();
        var stored = await bed.Bed.StoredOffsetsAsync(bed.Topic);
        foreach (var (partition, committed) in kafkaCommitted)
        {
            Assert.True(committed <= stored.GetValueOrDefault(partition), $"Kafka committed {committed} for partition {partition}, database has {stored.GetValueOrDefault(partition)}");
        }

        // With the coordinator healthy again, the next commits bring lag tools up to date on every partition.
        await bed.ProduceAsync(total, tail);
        await bed.Bed.WaitForRowsAsync(total + tail, s_catchUp, () => sink.Output);
        await WaitUntilAsync(() =>
        {
            var kafka = bed.KafkaCommitted();
            return Task.FromResult(Enumerable.Range(0, Partitions).All(p => kafka.GetValueOrDefault(p) == (total + tail) / Partitions));
        }, () => $"Kafka committed {string.Join(", ", bed.KafkaCommitted())}\n{sink.Output}");

        Assert.False(sink.HasExited, sink.Output);
        await StopAsync(sink);
        await bed.Bed.AssertExactlyOnceAsync(total + tail);
    }

    [Fact]
    public async Task Oversized_and_value_less_messages_land_or_are_skipped_and_the_offsets_move_past_them()
    {
        // 1 MiB of body: with the JSON around it the message is larger than librdkafka's max.partition.fetch.bytes
        // (1 MiB, so it comes back alone in a fetch) and than the producer's default message.max.bytes, and 4 times
        // this bed's batch.max_bytes, so the batch holding it is due at once. A real broker's default
        // max.message.bytes (1 MiB) would reject it; the mock has no such limit.
        const int bigBody = 1024 * 1024, bigId = 1_000_000;
        await using var bed = await FaultBed.CreateAsync(services, "bigmsg", partitions: 2,
            batch: "max_rows: 500\n  max_latency: 50ms\n  max_bytes: 256KiB");
        var big = new Message<byte[]?, byte[]?>
        {
            Key = Encoding.UTF8.GetBytes("big"),
            Value = Encoding.UTF8.GetBytes($$"""{"id":{{bigId}},"body":"{{new string('x', bigBody)}}"}"""),
        };
        Message<byte[]?, byte[]?> Tombstone(string? key) => new() { Key = key is null ? null : Encoding.UTF8.GetBytes(key), Value = null };

        // Partition 0 starts with a tombstone and ends with two; partition 1 has the big message between events
        // and a key-less, value-less message. Tombstones in insert mode are skipped but still advance the offset
        // (docs/exactly-once.md, step 3), trailing ones too, although no row is written for them.
        var messages = new List<(int Partition, Message<byte[]?, byte[]?> Message)>
        {
            (0, Tombstone("k-gone-1")), (0, SinkTestBed.Event(0)), (0, Tombstone("k0")), (0, SinkTestBed.Event(1)),
            (1, SinkTestBed.Event(2)), (1, big), (1, Tombstone(null)), (1, SinkTestBed.Event(3)),
            (0, SinkTestBed.Event(4)), (0, Tombstone("k4")), (0, Tombstone("k-gone-2")),
            (1, big), (1, SinkTestBed.Event(5)),
        };
        // The second copy of the big message is a second row: insert mode appends, ids need not be unique.
        using var sink = bed.StartSink();
        await bed.ProduceAsync(messages, messageMaxBytes: 4 * bigBody);
        var perPartition = messages.GroupBy(m => m.Partition).ToDictionary(g => g.Key, g => (long)g.Count());
        await bed.Bed.WaitForCommittedAsync(messages.Count, s_catchUp, () => sink.Output);
        await Task.Delay(500, TestContext.Current.CancellationToken); // room for anything beyond the last offset to show up

        Assert.Equal(perPartition, await bed.Bed.StoredOffsetsAsync(bed.Topic));
        Assert.Equal(8, await bed.Bed.RowCountAsync());
        Assert.Equal(6, await bed.Bed.ScalarAsync("SELECT count(*) FROM public.events WHERE id BETWEEN 0 AND 5 AND body = 'event ' || id"));
        Assert.Equal(2, await bed.Bed.ScalarAsync($"SELECT count(*) FROM public.events WHERE id = {bigId} AND length(body) = {bigBody} AND src_partition = 1"));
        Assert.Equal(8, await bed.Bed.ScalarAsync("SELECT count(DISTINCT (src_partition, src_offset)) FROM public.events"));
        Assert.False(sink.HasExited, sink.Output);

        // The loop is still consuming after them.
        await bed.ProduceAsync([(0, SinkTestBed.Event(6)), (1, SinkTestBed.Event(7))]);
        await bed.Bed.WaitForRowsAsync(10, s_catchUp, () => sink.Output);
        await StopAsync(sink);
        Assert.Equal(10, await bed.Bed.RowCountAsync());
    }

    private static async Task StopAsync(SinkProcess sink)
    {
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, $"exit code {sink.ExitCode}:\n{sink.Output}");
    }

    /// <summary>Waits until the broker returned every error pushed for <paramref name="api"/>: proof the faults were hit.</summary>
    private static Task WaitForInjectedErrorsAsync(MockKafkaCluster mock, int broker, KafkaApiKey api, params SinkProcess[] sinks) =>
        WaitUntilAsync(() => Task.FromResult(mock.BrokerErrorStackCount(broker, api) == 0),
            () => $"{mock.BrokerErrorStackCount(broker, api)} injected {api} errors on broker {broker} never requested.\n" + Outputs(sinks));

    /// <summary>
    /// After the faults: the group settles with every partition held by exactly one of the sinks and each holding
    /// some, and a further wave of messages lands (no partition stuck unassigned or paused), with both still running.
    /// </summary>
    private static async Task AssertGroupWorksAsync(FaultBed bed, int firstId, int wave, params SinkProcess[] sinks)
    {
        await WaitForSettledGroupAsync(bed, sinks);
        await bed.ProduceAsync(firstId, wave);
        await bed.Bed.WaitForRowsAsync(firstId + wave, s_catchUp, () => Outputs(sinks));
        Assert.All(sinks, sink => Assert.False(sink.HasExited, Outputs(sinks)));
    }

    /// <summary>
    /// Waits until the partitions the sinks hold (by their logs: claimed, not since revoked or lost) are all of the
    /// topic's, each held once, and every sink holds some. The offsets table cannot tell: it keeps the last claimer
    /// of a revoked partition that nobody has claimed since.
    /// </summary>
    private static Task WaitForSettledGroupAsync(FaultBed bed, params SinkProcess[] sinks) =>
        WaitUntilAsync(() =>
        {
            var held = sinks.Select(Held).ToList();
            return Task.FromResult(held.All(h => h.Count > 0)
                && held.Sum(h => h.Count) == bed.Partitions
                && held.SelectMany(h => h).Distinct().Count() == bed.Partitions);
        }, () => "the group did not settle:\n" + Outputs(sinks));

    /// <summary>The partitions a sink holds now according to its log.</summary>
    private static HashSet<int> Held(SinkProcess sink)
    {
        var held = new HashSet<int>();
        foreach (var line in sink.Output.Split('\n'))
        {
            var partitions = PartitionPattern().Matches(line).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
            if (line.Contains(" Claimed ", StringComparison.Ordinal))
            {
                held.UnionWith(partitions);
            }
            else if (line.Contains(" Revoked ", StringComparison.Ordinal) || line.Contains(" Lost ", StringComparison.Ordinal))
            {
                held.ExceptWith(partitions);
            }
        }

        return held;
    }

    /// <summary>Whether the loop's latest state is "paused for a commit that failed" (not an earlier, ended pause).</summary>
    private static bool IsHoldingBackForFailedWrites(string output)
    {
        var failed = output.IndexOf("Batch write failed", StringComparison.Ordinal);
        var paused = output.LastIndexOf("Previous batch not committed yet", StringComparison.Ordinal);
        return failed >= 0 && paused > failed && paused > output.LastIndexOf("Batch committed again", StringComparison.Ordinal);
    }

    // A TopicPartition as the sink logs it: "topic [[3]]".
    [GeneratedRegex(@"\[\[(\d+)\]\]")]
    private static partial Regex PartitionPattern();

    private static string Outputs(params SinkProcess[] sinks) =>
        string.Join("\n", sinks.Select(s => $"--- sink {s.Id}:\n{s.Output}"));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<string> diagnostics)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > s_catchUp)
            {
                throw new TimeoutException($"condition not met after {s_catchUp}.\n{diagnostics()}");
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>A <see cref="SinkTestBed"/> whose topic lives on a mock cluster of this test's own.</summary>
    private sealed class FaultBed : IAsyncDisposable
    {
        private static int s_reported;
        private readonly KafkaTestCluster _kafka;

        private FaultBed(SinkTestBed bed, KafkaTestCluster kafka, int partitions)
        {
            Bed = bed;
            _kafka = kafka;
            Partitions = partitions;
        }

        public SinkTestBed Bed { get; }

        public MockKafkaCluster Mock => _kafka.Mock!;

        public string Topic => Bed.Topic;

        public int Partitions { get; }

        public static async Task<FaultBed> CreateAsync(TestServices services, string name, int partitions, string? batch = null, PostgresServer? postgres = null)
        {
            // A mock of the test's own, also when the run's Kafka is a real broker: only the mock injects faults.
            var kafka = KafkaTestCluster.StartMock();
            if (Interlocked.Exchange(ref s_reported, 1) == 0)
            {
                TestServices.Report($"fault-injection tests (KafkaFaultTests): {kafka.Description}, one per test");
            }

            var bed = batch is null
                ? await SinkTestBed.CreateAsync(services, name, partitions, postgres: postgres)
                : await SinkTestBed.CreateAsync(services, name, partitions, batch, postgres);
            kafka.Mock!.CreateTopic(bed.Topic, partitions);
            kafka.Mock.SetGroupCoordinator(bed.GroupId, Coordinator);
            return new FaultBed(bed, kafka, partitions);
        }

        /// <summary>The real sink, pointed at this test's cluster.</summary>
        public SinkProcess StartSink(string logLevel = "Information")
        {
            var environment = new Dictionary<string, string>(Bed.Environment)
            {
                ["KAFKA_BOOTSTRAP"] = _kafka.BootstrapServers,
                ["SINK_LOG_LEVEL"] = logLevel,
            };
            return SinkProcess.Start(["run", "--config", Bed.ConfigDirectory], environment);
        }

        /// <summary>Events <paramref name="firstId"/>.. round-robin over the partitions, as <see cref="SinkTestBed.ProduceAsync(int, int, int)"/>.</summary>
        public Task ProduceAsync(int firstId, int count) =>
            _kafka.ProduceAsync(Topic, Enumerable.Range(firstId, count).Select(i => (i % Partitions, SinkTestBed.Event(i))));

        public async Task ProduceAsync(IEnumerable<(int Partition, Message<byte[]?, byte[]?> Message)> messages, int messageMaxBytes = 1_000_000)
        {
            using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig
            {
                BootstrapServers = _kafka.BootstrapServers,
                Acks = Acks.All,
                EnableIdempotence = true,
                MessageMaxBytes = messageMaxBytes,
            }).Build();
            foreach (var (partition, message) in messages)
            {
                // One at a time: the order within each partition is part of what is checked.
                await producer.ProduceAsync(new TopicPartition(Topic, partition), message, TestContext.Current.CancellationToken);
            }
        }

        /// <summary>
        /// Produces <paramref name="count"/> events from id <paramref name="firstId"/> on in chunks with pauses, so the sink consumes while Kafka faults
        /// are injected (it would drain a single burst within a second) and the mock's small retention never trims.
        /// One producer that never waits for acknowledgements until the end: while a broker is down, messages for
        /// its partitions queue up in the producer and the other partitions keep receiving.
        /// </summary>
        public async Task StreamAsync(int firstId, int count, int chunk, TimeSpan pause)
        {
            using var producer = _kafka.CreateProducer();
            var failures = 0;
            for (var first = firstId; first < firstId + count; first += chunk)
            {
                for (var id = first; id < Math.Min(first + chunk, firstId + count); id++)
                {
                    producer.Produce(new TopicPartition(Topic, id % Partitions), SinkTestBed.Event(id), report =>
                    {
                        if (report.Error.IsError)
                        {
                            Interlocked.Increment(ref failures);
                        }
                    });
                }

                await Task.Delay(pause, TestContext.Current.CancellationToken);
            }

            await Task.Run(() => producer.Flush(TimeSpan.FromSeconds(60)), TestContext.Current.CancellationToken);
            Assert.True(failures == 0 && producer.Flush(TimeSpan.Zero) == 0, $"{failures} messages not acknowledged by Kafka");
        }

        /// <summary>Kafka's committed offsets of the group (what lag tools see); partitions without one are left out.</summary>
        public Dictionary<int, long> KafkaCommitted()
        {
            using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
            {
                BootstrapServers = _kafka.BootstrapServers,
                GroupId = Bed.GroupId,
                EnableAutoCommit = false,
            }).Build();
            return consumer.Committed(Enumerable.Range(0, Partitions).Select(p => new TopicPartition(Topic, p)), TimeSpan.FromSeconds(10))
                .Where(o => o.Offset.Value >= 0)
                .ToDictionary(o => o.Partition.Value, o => o.Offset.Value);
        }

        public async ValueTask DisposeAsync()
        {
            await Bed.DisposeAsync();
            _kafka.Dispose();
        }
    }
}
