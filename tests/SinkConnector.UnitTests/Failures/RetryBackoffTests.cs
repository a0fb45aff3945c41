using SinkConnector.Failures;

namespace SinkConnector.UnitTests.Failures;

public class RetryBackoffTests
{
    [Fact]
    public void Without_jitter_the_delays_double_from_the_first_up_to_the_cap_exactly()
    {
        var backoff = new RetryBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), jitter: false);

        Assert.Equal([1, 2, 4, 8, 16, 30, 30], Enumerable.Range(1, 7).Select(a => backoff.Delay(a).TotalSeconds));
    }

    [Fact]
    public void With_jitter_each_delay_is_between_half_and_all_of_its_step()
    {
        for (var attempt = 1; attempt <= 10; attempt++)
        {
            var step = Math.Min(10_000, 100 * Math.Pow(2, attempt - 1));
            var delay = RetryBackoff.Database.Delay(attempt).TotalMilliseconds;
            Assert.InRange(delay, step / 2, step);
        }
    }
}
