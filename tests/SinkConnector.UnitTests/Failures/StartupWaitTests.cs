using SinkConnector.Failures;

namespace SinkConnector.UnitTests.Failures;

public class StartupWaitTests
{
    [Fact]
    public async Task Transient_failures_are_waited_out_with_one_report_per_wait_and_the_result_returned()
    {
        var attempts = 0;
        var waits = new List<(TimeSpan Delay, string Reason)>();

        var result = await StartupWait.RunAsync(
            _ => ++attempts < 3 ? throw new TimeoutException($"attempt {attempts}") : Task.FromResult(42),
            (delay, e) => waits.Add((delay, e.Message)),
            TestContext.Current.CancellationToken);

        Assert.Equal(42, result);
        // 1 s, then 2 s: the backoff as logged, without jitter.
        Assert.Equal([(TimeSpan.FromSeconds(1), "attempt 1"), (TimeSpan.FromSeconds(2), "attempt 2")], waits);
    }

    [Fact]
    public async Task A_failure_that_is_not_transient_ends_the_wait_at_once()
    {
        var waits = 0;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartupWait.RunAsync(
            _ => throw new InvalidOperationException("no such schema"), (_, _) => waits++, TestContext.Current.CancellationToken));

        Assert.Equal("no such schema", error.Message);
        Assert.Equal(0, waits);
    }
}
