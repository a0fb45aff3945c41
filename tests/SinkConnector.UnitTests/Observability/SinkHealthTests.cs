using SinkConnector.Observability;

namespace SinkConnector.UnitTests.Observability;

public class SinkHealthTests
{
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void Live_while_the_loop_polls_and_not_after_it_stalls()
    {
        var time = new ManualTime();
        var health = new SinkHealth(time);
        health.Polled();
        Assert.True(health.IsLive(out _));

        time.Now += SinkHealth.PollStall + TimeSpan.FromSeconds(1);

        Assert.False(health.IsLive(out var reason));
        Assert.Contains("last poll", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Ready_needs_the_group_and_only_a_long_outage_makes_it_unready()
    {
        var time = new ManualTime();
        var health = new SinkHealth(time);
        health.Polled();
        Assert.False(health.IsReady(out _));
        health.Joined();
        Assert.True(health.IsReady(out _));

        health.DatabaseFailed();
        time.Now += SinkHealth.LongOutage / 2;
        health.Polled();
        Assert.True(health.IsReady(out _));
        health.DatabaseFailed(); // a later failure does not restart the outage clock
        time.Now += SinkHealth.LongOutage;
        health.Polled();
        Assert.False(health.IsReady(out var reason));
        Assert.Contains("Postgres unreachable", reason, StringComparison.Ordinal);

        health.DatabaseAnswered();
        Assert.True(health.IsReady(out _));
    }

    [Fact]
    public void A_batch_waiting_for_the_schema_registry_longer_than_a_blip_makes_it_unready_until_the_registry_answers()
    {
        var time = new ManualTime();
        var health = new SinkHealth(time);
        health.Polled();
        health.Joined();

        health.RegistryFailed();
        time.Now += SinkHealth.LongOutage / 2;
        health.Polled();
        Assert.True(health.IsReady(out _));

        time.Now += SinkHealth.LongOutage;
        health.Polled();
        Assert.False(health.IsReady(out var reason));
        Assert.Contains("schema registry unreachable", reason, StringComparison.Ordinal);

        health.RegistryAnswered();
        Assert.True(health.IsReady(out _));
    }
}
