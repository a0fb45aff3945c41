namespace SinkConnector.UnitTests.Engine;

/// <summary>Waits (real time, bounded) for something a background task of the part under test does.</summary>
internal static class Eventually
{
    /// <summary>For tests that await a part's background tasks: a bug there fails the test instead of hanging the run.</summary>
    public const int TestTimeoutMs = 30_000;

    public static async Task TrueAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }
}
