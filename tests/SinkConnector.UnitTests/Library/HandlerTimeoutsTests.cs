using SinkConnector.EntityFrameworkCore;

namespace SinkConnector.UnitTests.Library;

/// <summary>The per-call handler timeout re-armed on one token source per batch attempt.</summary>
public class HandlerTimeoutsTests
{
    [Fact]
    public void Calls_that_finish_in_time_are_not_timed_out_and_each_gets_an_uncancelled_token()
    {
        using var timeouts = new HandlerTimeouts(TimeSpan.FromSeconds(30), CancellationToken.None);
        for (var call = 0; call < 3; call++)
        {
            var token = timeouts.Start();
            Assert.False(token.IsCancellationRequested);
            Assert.False(timeouts.Stop());
        }
    }

    [Fact]
    public async Task A_call_that_overruns_the_timeout_is_cancelled_and_the_next_call_gets_a_fresh_token()
    {
        using var timeouts = new HandlerTimeouts(TimeSpan.FromMilliseconds(20), CancellationToken.None);
        var slow = timeouts.Start();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Delay(TimeSpan.FromSeconds(10), slow));
        Assert.True(timeouts.Stop());

        var next = timeouts.Start();
        Assert.False(next.IsCancellationRequested);
        Assert.False(timeouts.Stop());
    }

    [Fact]
    public void Stopping_the_consumer_cancels_the_running_call()
    {
        using var stopping = new CancellationTokenSource();
        using var timeouts = new HandlerTimeouts(TimeSpan.FromSeconds(30), stopping.Token);
        var token = timeouts.Start();
        stopping.Cancel();
        Assert.True(token.IsCancellationRequested);
        Assert.True(timeouts.Stop());
    }
}
