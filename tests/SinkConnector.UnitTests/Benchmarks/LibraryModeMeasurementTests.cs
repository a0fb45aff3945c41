using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using SinkConnector.Benchmarks;
using SinkConnector.Benchmarks.Library;

namespace SinkConnector.UnitTests.Benchmarks;

/// <summary>
/// Library mode's measurement in the benchmark: the window and commit latencies come from the engine's own log events
/// (<see cref="EngineEvents"/>), logged here through the engine's real <c>Log</c> methods and a logger factory.
/// </summary>
public sealed class LibraryModeMeasurementTests
{
    [Fact]
    public void Committed_batches_add_up_their_messages_and_keep_each_latency()
    {
        var totals = new List<long>();
        var events = new EngineEvents(() => { }, totals.Add);
        var logger = LoggerFor(events);

        SinkConnector.Engine.Log.BatchCommitted(logger, messages: 10_000, rows: 10_000, partitions: 24, elapsedMs: 812);
        SinkConnector.Engine.Log.BatchCommitted(logger, messages: 2_500, rows: 2_400, partitions: 7, elapsedMs: 95);

        Assert.Equal([10_000L, 12_500L], totals);
        Assert.Equal([812d, 95d], events.CommitMilliseconds);
        Assert.Equal("", events.Errors);
    }

    [Fact]
    public void Only_the_first_claim_starts_the_window()
    {
        var claims = 0;
        var events = new EngineEvents(() => claims++, _ => { });
        var logger = LoggerFor(events);

        SinkConnector.Engine.Log.Claimed(logger, new TopicPartition("orders", 0), 1, "0");
        var first = events.FirstClaim;
        SinkConnector.Engine.Log.Claimed(logger, new TopicPartition("orders", 1), 1, "0");

        Assert.Equal(1, claims);
        Assert.NotEqual(0, first);
        Assert.Equal(first, events.FirstClaim);
    }

    [Fact]
    public void A_consumer_failure_is_kept_to_say_why_the_run_stopped()
    {
        var events = new EngineEvents(() => { }, _ => { });
        SinkConnector.Engine.Log.Failed(LoggerFor(events), "handler InsertOrderHandler failed");
        Assert.Contains("handler InsertOrderHandler failed", events.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Library_scenarios_are_selectable_stop_at_the_ef_share_and_compare_with_c_mode_for_mode()
    {
        var options = BenchOptions.Parse(["--scenarios", "ef,ef-upsert,library,library-upsert"]);

        Assert.Equal([Scenario.Ef, Scenario.EfUpsert, Scenario.Library, Scenario.LibraryUpsert], Scenario.All.Where(options.Scenarios.Contains));
        Assert.False(Scenario.IsUpsert(Scenario.Library));
        Assert.True(Scenario.IsUpsert(Scenario.LibraryUpsert));
        Assert.True(Scenario.IsEntityFramework(Scenario.Library) && Scenario.IsEntityFramework(Scenario.LibraryUpsert));
        Assert.False(Scenario.IsSinkProcess(Scenario.Library), "in process, warmed up like (c)");
    }

    [Fact]
    public void A_backlog_is_produced_only_when_a_scenario_runs_on_it()
    {
        Assert.Empty(BenchOptions.Parse(["--scenarios", "ef,library"]).WithDefaultBacklog(realBroker: true).AllSizes.Skip(2));
        Assert.Empty(BenchOptions.Parse(["--scenarios", "ef,library", "--messages", "1000,2000,4000"]).AllSizes.Skip(2));
        Assert.Equal([BenchOptions.DefaultBacklog], BenchOptions.Parse(["--scenarios", "ef,sink"]).WithDefaultBacklog(realBroker: true).AllSizes.Skip(2));
        Assert.Equal([4000], BenchOptions.Parse(["--scenarios", "consume", "--messages", "1000,2000,4000"]).AllSizes.Skip(2));
        Assert.True(Scenario.RunsOnBacklog(Scenario.PsqlCopy), "the sink's ratio to psql on the backlog needs psql there");
    }

    private static ILogger LoggerFor(EngineEvents events)
    {
        var factory = LoggerFactory.Create(logging => logging.AddProvider(events).SetMinimumLevel(LogLevel.Debug));
        return factory.CreateLogger("SinkConnector.EntityFrameworkCore.KafkaSinkService");
    }
}
