namespace SinkConnector.EntityFrameworkCore;

/// <summary>
/// <see cref="KafkaSinkOptions.HandlerTimeout"/> for one handler call after another in a batch attempt: one linked
/// <see cref="CancellationTokenSource"/> whose timer is re-armed per call, instead of a new source, parent registration
/// and timer per message (the benchmark's handlers take a few microseconds; that plumbing was a visible share of them).
/// </summary>
internal sealed class HandlerTimeouts(TimeSpan timeout, CancellationToken stopping) : IDisposable
{
    private CancellationTokenSource _source = CancellationTokenSource.CreateLinkedTokenSource(stopping);

    /// <summary>The token of the next call, cancelled after the timeout or when the consumer stops.</summary>
    public CancellationToken Start()
    {
        _source.CancelAfter(timeout);
        return _source.Token;
    }

    /// <summary>Ends the call: true if its token was cancelled (it timed out, or the consumer is stopping).</summary>
    public bool Stop()
    {
        // TryReset stops the timer and fails once the timer has fired or the source was cancelled: a cancelled source
        // cannot be used again, so the next call gets a new one.
        if (_source.TryReset())
        {
            return false;
        }

        _source.Dispose();
        _source = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        return true;
    }

    public void Dispose() => _source.Dispose();
}
