namespace SinkConnector.UnitTests.Engine;

/// <summary>Waits (real time, bounded) for something a background task of the part under test does.</summary>
internal static class Eventually
{
    /// <summary>For tests that await a part's background tasks: a bug there fails the test instead of hanging the run.</summary>
    public const int TestTimeoutMs = 120_000;

    public static async Task TrueAsync(Func<bool> condition, string what)
    {
        // Generous: a limit, not a wait. A background task can go unscheduled for seconds on a loaded machine (a run at
        // load 37 on 2 cores timed out at 10 s); polling ends as soon as the condition holds.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }
}
