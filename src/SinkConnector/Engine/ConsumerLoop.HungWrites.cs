namespace SinkConnector.Engine;

/// <summary>
/// The liveness net under the writes: every statement of a write ends within <c>statement_timeout</c> (its
/// transaction, idle, within <c>idle_in_transaction_session_timeout</c>), so a write whose stage has not changed for
/// twice that waits for something in this process that may never come. Whatever it waits for, the loop gives up on it.
/// </summary>
public sealed partial class ConsumerLoop
{
    /// <summary>
    /// How long the oldest write may stay at one stage before it counts as hung: twice the sessions'
    /// <c>statement_timeout</c> (<see cref="Schema.SinkDatabase.StatementTimeout"/>); never without one.
    /// </summary>
    internal TimeSpan HungWriteTimeout { get; set; }

    private static TimeSpan HungWriteTimeoutFor(TimeSpan statementTimeout) =>
        statementTimeout > TimeSpan.Zero ? 2 * statementTimeout : Timeout.InfiniteTimeSpan;

    /// <summary>
    /// Like the commit-stall repair (<see cref="RecoverStalledCommitsAsync"/>), for partitions a hung write holds: both
    /// writes in flight are dropped (the one after the hung one expects what it would commit), their partitions are
    /// claimed again (epoch + 1: a dropped write that wakes up is fenced) and consumed from the committed offsets. The
    /// next write starts a fresh sequence, under new turn locks.
    /// </summary>
    private async Task RecoverHungWritesAsync(CancellationToken stopping)
    {
        if (HungWriteTimeout == Timeout.InfiniteTimeSpan || _writes.Hung(HungWriteTimeout) is not { } stage)
        {
            return;
        }

        var writes = _writes.Count;
        var dropped = _writes.DropAll();
        _offsets.NewTurns();
        var stalled = _claims.Fence(dropped.Select(c => (c.Partition, (long?)c.Epoch)), Now());
        Log.WriteHung(_logger, (long)HungWriteTimeout.TotalSeconds, stage, writes, string.Join(", ", stalled));
        // What the sink's backends were doing: idle ones say the wait is in this process.
        _backends.Start();
        await ConsumeAgainAsync(stalled, stopping);
    }
}
