using SinkConnector.Benchmarks;
using SinkConnector.Benchmarks.Latency;

namespace SinkConnector.UnitTests.Benchmarks;

/// <summary>The steady-rate latency benchmark's bookkeeping: bounds per message, percentiles, options, the sink's log.</summary>
public sealed class LatencyRecordingTests
{
    [Fact]
    public void A_message_is_stamped_visible_between_the_read_before_and_the_read_that_saw_it()
    {
        var timeline = new LatencyTimeline([3, 2]);
        timeline.Acknowledged(0, 0, createTimeMs: 1_000, at: 1_004);
        timeline.Acknowledged(0, 1, createTimeMs: 1_010, at: 1_012);
        timeline.Acknowledged(0, 2, createTimeMs: 1_020, at: 1_022);
        timeline.Acknowledged(1, 0, createTimeMs: 1_005, at: 1_009);

        // A read requested at 1,100 saw next_offset 2 on partition 0; the one before it was requested at 1,095.
        timeline.Visible(0, 0, 2, after: 1_095, by: 1_101.5);

        var messages = timeline.Messages().ToDictionary(m => (m.Partition, m.Offset));
        Assert.Equal(101.5, messages[(0, 0)].Latency);
        Assert.Equal(95, messages[(0, 0)].LatencyLowerBound);
        Assert.Equal(4, messages[(0, 0)].AckLatency);
        Assert.Equal(97.5, messages[(0, 0)].AfterAck);
        Assert.Equal(91.5, messages[(0, 1)].Latency);
        Assert.True(double.IsNaN(messages[(0, 2)].Latency), "offset 2 is not visible yet");
        Assert.True(double.IsNaN(messages[(1, 0)].Latency), "partition 1 is not visible yet");
        Assert.False(messages.ContainsKey((1, 1)), "never acknowledged: not a message of the run");
    }

    [Fact]
    public void The_lower_bound_is_never_negative_when_the_read_before_was_sent_before_the_message()
    {
        var timeline = new LatencyTimeline([1]);
        timeline.Acknowledged(0, 0, createTimeMs: 1_000, at: 1_002);
        timeline.Visible(0, 0, 1, after: 990, by: 1_050);
        Assert.Equal(0, timeline.Messages().Single().LatencyLowerBound);
    }

    [Fact]
    public void Only_messages_created_after_the_warm_up_are_counted()
    {
        var timeline = new LatencyTimeline([3]);
        for (var offset = 0; offset < 3; offset++)
        {
            timeline.Acknowledged(0, offset, createTimeMs: 1_000 + offset * 1_000, at: 1_001 + offset * 1_000);
        }

        Assert.Equal([1, 2], timeline.Messages(fromMs: 2_000).Select(m => m.Offset));
    }

    [Fact]
    public void Percentiles_interpolate_between_ranks_as_the_benchmark_statistics_do()
    {
        var values = Enumerable.Range(1, 200).Select(v => (double)v).Reverse().ToList();
        var percentiles = Percentiles.Of(values);
        Assert.Equal(Stats.Percentile(values, 50), percentiles.P50);
        Assert.Equal(Stats.Percentile(values, 95), percentiles.P95);
        Assert.Equal(Stats.Percentile(values, 99), percentiles.P99);
        Assert.Equal(200, percentiles.Max);
        Assert.True(double.IsNaN(Percentiles.Of([]).P99));
    }

    [Fact]
    public void Latency_options_take_rates_and_seconds_and_refuse_nonsense()
    {
        var options = new LatencyOptions().With("--rates", "10000, 2000").With("--duration", "30").With("--warmup", "0").With("--latency-runs", "3");
        Assert.Equal([10_000, 2_000], options.Rates);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Duration);
        Assert.Equal(TimeSpan.Zero, options.WarmUp);
        Assert.Equal(3, options.Runs);
        Assert.Throws<ArgumentException>(() => options.With("--rates", "0"));
        Assert.Throws<ArgumentException>(() => options.With("--duration", "0"));
        Assert.True(LatencyOptions.Accepts("--poll-ms"));
        Assert.False(LatencyOptions.Accepts("--reps"));
    }

    [Fact]
    public void Bench_options_select_the_latency_scenario_alone_or_with_the_others()
    {
        Assert.Contains(Scenario.Latency, BenchOptions.Parse([]).Scenarios);
        var alone = BenchOptions.Parse(["--scenarios", "latency", "--rates", "500", "--duration", "10"]);
        Assert.Equal([Scenario.Latency], alone.Scenarios);
        Assert.Equal([500], alone.Latency.Rates);
        Assert.Equal(1, BenchOptions.Parse(["--quick"]).Latency.Runs);
    }

    [Fact]
    public void Sink_log_lines_give_time_level_event_and_the_batch_commit_time()
    {
        var events = SinkLogEvents.Parse(
            """
            2026-12-02T20:25:18.120Z info: sink[1001] Claimed orders [[0]] at epoch 1, resuming at the beginning of the partition
            2026-12-02T20:25:20.548Z dbug: sink[1006] Committed batch: 1012 messages, 1012 rows, 24 partitions in 38 ms
            not a log line
            2026-12-02T20:25:20.610Z warn: sink[1017] Previous batch not committed yet: pausing 24 partition(s) and polling until Postgres catches up
            """);
        Assert.Equal([1001, 1006, 1017], events.Select(e => e.EventId));
        Assert.Equal((new DateTime(2026, 12, 2, 20, 25, 18, 120, DateTimeKind.Utc) - DateTime.UnixEpoch).TotalMilliseconds, events[0].AtMs);
        Assert.Equal(38, SinkLogEvents.CommitMilliseconds(events[1]));
        Assert.Null(SinkLogEvents.CommitMilliseconds(events[0]));
        Assert.Equal([true, false, true], events.Select(e => e.IsNotable));
        Assert.Equal("warn", events[2].Level);
    }
}
