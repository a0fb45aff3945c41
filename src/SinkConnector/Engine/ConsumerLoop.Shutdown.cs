namespace SinkConnector.Engine;

/// <summary>Step 6: shutdown within <c>shutdown_grace</c>, and leaving the group after a failure.</summary>
public sealed partial class ConsumerLoop
{
    // After a failure (no SIGTERM, so no hard deadline), leaving the group gets shutdown_grace, but at least this.
    private static readonly TimeSpan s_minimumLeaveTime = TimeSpan.FromSeconds(5);

    // The orderly shutdown ends this long before shutdown_grace (at most a quarter of it), when sink run's hard
    // deadline ends the process: time to exit on its own, with exit code 0.
    private static readonly TimeSpan s_exitReserve = TimeSpan.FromSeconds(2);

    private async Task ShutdownAsync()
    {
        var grace = _connector.ShutdownGrace;
        Log.Stopping(_logger, grace.TotalSeconds);
        // sink run ends the process at shutdown_grace whatever happens; the orderly steps finish a moment before,
        // so that it exits on its own.
        var budget = grace - TimeSpan.FromTicks(Math.Min(s_exitReserve.Ticks, grace.Ticks / 4));
        var deadline = Now() + budget;
        using var stopWaiting = new CancellationTokenSource(budget, _time);
        try
        {
            await FinishWritesAsync(stopWaiting.Token);
            if (!_batch.IsEmpty)
            {
                StartWrite();
                await FinishWritesAsync(stopWaiting.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Whatever did not commit is still in Kafka and is re-consumed from the stored offsets.
            await _writes.AbandonAsync();
            Log.GraceExceeded(_logger);
        }

        await _kafkaCommits.FlushAsync(() => Left(deadline, TimeSpan.FromSeconds(5)));

        // Leaving the group waits for the coordinator, which can be away for longer than the grace (seen in the
        // chaos soak). Postgres already has everything, so past the grace the process goes without a goodbye and
        // the group notices through the session timeout.
        if (await LeaveGroupAsync(Left(deadline, TimeSpan.MaxValue)))
        {
            Log.Stopped(_logger);
        }
    }

    private async Task FinishWritesAsync(CancellationToken grace)
    {
        while (!_writes.IsEmpty)
        {
            await FinishOldestWriteAsync(grace).WaitAsync(grace);
        }
    }

    /// <summary>Closes the consumer (leaving the group) within <paramref name="timeout"/>; false if it did not.</summary>
    private async Task<bool> LeaveGroupAsync(TimeSpan timeout)
    {
        if (!await _kafka.CloseAsync(timeout))
        {
            return false;
        }

        _health.Left();
        return true;
    }

    /// <summary>The time until <paramref name="deadline"/>, at most <paramref name="cap"/>, never negative.</summary>
    private TimeSpan Left(DateTime deadline, TimeSpan cap)
    {
        var left = deadline - Now();
        return left < TimeSpan.Zero ? TimeSpan.Zero : left < cap ? left : cap;
    }
}
