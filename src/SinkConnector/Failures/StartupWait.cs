namespace SinkConnector.Failures;

/// <summary>
/// Runs a startup step (schema checks, migrations) again while Postgres is not reachable yet (compose starting it, a
/// database failover): waits 1, 2, 4 ... 30 s, exactly as reported to <c>onWait</c> (one process waits alone, so no
/// jitter), rather than crash-looping. Anything not transient ends the wait with its exception. The schema registry's
/// outages are waited for the same way (<c>isTransient</c>).
/// </summary>
public static class StartupWait
{
    private static readonly RetryBackoff s_backoff = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), jitter: false);

    /// <summary>Runs <paramref name="step"/> until it completes; <paramref name="onWait"/> hears of each wait and its cause.</summary>
    /// <param name="isTransient">Which failures are waited out; Postgres' transient errors (<see cref="PostgresErrors.IsTransient"/>) by default.</param>
    public static async Task<T> RunAsync<T>(
        Func<CancellationToken, Task<T>> step, Action<TimeSpan, Exception> onWait, CancellationToken cancellationToken, Func<Exception, bool>? isTransient = null)
    {
        isTransient ??= PostgresErrors.IsTransient;
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(onWait);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await step(cancellationToken);
            }
            catch (Exception e) when (isTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                var delay = s_backoff.Delay(attempt);
                onWait(delay, e);
                await Task.Delay(delay, cancellationToken);
            }
        }
    }

    /// <inheritdoc cref="RunAsync{T}"/>
    public static Task RunAsync(Func<CancellationToken, Task> step, Action<TimeSpan, Exception> onWait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        return RunAsync(async token =>
        {
            await step(token);
            return true;
        }, onWait, cancellationToken);
    }
}
