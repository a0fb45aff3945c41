namespace SinkConnector.Failures;

/// <summary>
/// The one backoff of every retry loop (batch writes, claims, waiting for Postgres at startup): exponential from
/// <paramref name="first"/>, capped at <paramref name="max"/>, with jitter (unless <paramref name="jitter"/> is false) so
/// that replicas that failed together do not retry together.
/// </summary>
public sealed class RetryBackoff(TimeSpan first, TimeSpan max, bool jitter = true)
{
    /// <summary>Batch writes and claims: 100 ms doubling up to 10 s.</summary>
    public static RetryBackoff Database { get; } = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10));

    /// <summary>The delay before retry number <paramref name="attempt"/> (1 for the first retry): the exponential step, or with jitter between half and all of it.</summary>
    public TimeSpan Delay(int attempt)
    {
        var step = Math.Min(max.TotalMilliseconds, first.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt, 1, 30) - 1));
        return TimeSpan.FromMilliseconds(jitter ? step * (0.5 + (Random.Shared.NextDouble() / 2)) : step);
    }
}
