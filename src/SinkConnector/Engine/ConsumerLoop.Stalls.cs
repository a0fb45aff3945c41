using Confluent.Kafka;

namespace SinkConnector.Engine;

/// <summary>
/// The loop's watch on its owned partitions, once a second: fetching that stopped (a lost seek, a partition left
/// paused) and accepted messages that never reach the database (a batch lost between the loop's parts, a write that
/// never ends). Both are reported with the state needed to tell the cause, and repaired where that keeps exactly once.
/// </summary>
public sealed partial class ConsumerLoop
{
    /// <summary>
    /// Accepted messages of a partition that no commit has moved for this long are reported (and, when no write holds
    /// them, consumed again under a new claim). Twice the slow-write warning's threshold, so that a write that is
    /// merely slow is reported as such first.
    /// </summary>
    internal static readonly TimeSpan CommitStallTimeout = 2 * LoopReport.SlowWrite;

    // Partitions whose commits stalled with no write holding their messages, and the claim that stalled; repaired
    // after the check, outside the iteration over the owned partitions.
    private readonly List<(TopicPartition Partition, long Epoch)> _commitStalled = [];

    /// <summary>The read of the sink's Postgres backends that the last commit stall started (tests wait for its log lines).</summary>
    internal Task BackendsReported => _backends.Reading;

    private void CheckPartitions(DateTime now)
    {
        foreach (var (partition, owned) in _claims.Owned)
        {
            var high = _kafka.HighWatermark(partition);
            if (high is { } known)
            {
                _metrics.Watermark(partition, known);
            }

            // A lost seek can leave a partition at its log end or paused; the loop's own pause is no stall.
            if (!_backpressure && owned.IsStalled(high, now, PartitionClaims.StallTimeout))
            {
                Log.Stalled(_logger, partition, owned.NextOffset ?? -1, high ?? Offset.Unset.Value, (long)PartitionClaims.StallTimeout.TotalSeconds);
                Seek(partition, owned);
                _kafka.Resume([partition]);
            }
            else if (!_health.DatabaseFailing && owned.IsCommitStalled(now, CommitStallTimeout + _limits.MaxLatency))
            {
                // While Postgres fails, nothing commits by design: the write retries say so. Messages may wait in the
                // open batch for max_latency by design too (minutes, if so configured): the timeout starts after it.
                ReportCommitStall(partition, owned, high, now);
            }
        }
    }

    private void ReportCommitStall(TopicPartition partition, OwnedPartition owned, long? high, DateTime now)
    {
        owned.CommitStallReported(now);
        var writing = _writes.Holding(partition);
        var (unclaimed, fenced) = _claims.PendingClaims();
        var action = writing is { } write
            ? $"a write holding its messages has run {(long)write.Elapsed.TotalSeconds} s ({write.Stage}): left to finish"
            : _backpressure
                ? "fetching is held back until the writes in flight commit: left to them"
                : "no write holds its messages: claiming it again and consuming from the committed offset";
        Log.CommitStalled(_logger, partition, (long)(CommitStallTimeout + _limits.MaxLatency).TotalSeconds, owned.Committed ?? -1, owned.NextOffset ?? -1,
            high ?? Offset.Unset.Value, _batch.Partitions.GetValueOrDefault(partition)?.Messages ?? 0, _batch.Messages, _writes.Count,
            _backpressure, _claims.Owned.Count, unclaimed.Count + fenced.Count, action);
        // Stuck in Postgres (a lock wait, a long statement) or in this process (its backends idle): event 1033.
        _backends.Start();
        if (writing is null && !_backpressure)
        {
            _commitStalled.Add((partition, owned.Epoch));
        }
    }

    /// <summary>
    /// Like an operator reset of the stalled partitions: paused, their share of the open batch dropped, claimed again
    /// (epoch + 1: a write of the old claim that still turns up is fenced) and sought to what the database holds. A
    /// newer claim of another process leaves them paused, as after any fence.
    /// </summary>
    private async Task RecoverStalledCommitsAsync(CancellationToken stopping)
    {
        if (_commitStalled.Count == 0)
        {
            return;
        }

        var stalled = _claims.Fence(_commitStalled.Select(s => (s.Partition, (long?)s.Epoch)), Now());
        _commitStalled.Clear();
        await ConsumeAgainAsync(stalled, stopping);
    }

    /// <summary>
    /// Partitions just fenced (<see cref="PartitionClaims.Fence"/>) are paused, their share of the open batch dropped,
    /// and claimed again and sought to what the database holds.
    /// </summary>
    private async Task ConsumeAgainAsync(IReadOnlyCollection<TopicPartition> fenced, CancellationToken stopping)
    {
        if (fenced.Count == 0)
        {
            return;
        }

        _kafka.Pause(fenced);
        foreach (var partition in fenced)
        {
            _batch.Remove(partition);
        }

        await RetryClaimsAsync(stopping);
    }
}
