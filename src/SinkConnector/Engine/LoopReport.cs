using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using SinkConnector.Observability;

namespace SinkConnector.Engine;

/// <summary>
/// What the loop tells operators besides its protocol steps: batch commits and dead letters (log lines and metrics), a
/// notice while the group has not assigned partitions yet, and a progress line every few seconds while there is work
/// (rows/s, lag and the time to catch up at that rate).
/// </summary>
internal sealed class LoopReport(string groupId, SinkMetrics metrics, ILogger logger)
{
    private static readonly TimeSpan s_watermarkInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromSeconds(10);

    // Silence while the group forms is normal for a few seconds; longer, the log says what the sink waits for.
    private static readonly TimeSpan s_assignmentWaitNotice = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_assignmentWaitRepeat = TimeSpan.FromSeconds(30);

    private DateTime _lastWatermarks;
    private DateTime? _lastProgress;
    private long _rowsSinceProgress;

    // Since when the consumer has been waiting for the group to assign it partitions (null: it has an assignment).
    private DateTime? _waitingSince;
    private DateTime _nextWaitNotice;

    public void WaitingForAssignment(DateTime now)
    {
        _waitingSince = now;
        _nextWaitNotice = now + s_assignmentWaitNotice;
    }

    public void Joined()
    {
        // Before the first message: what the process holds before it does any work.
        if (_waitingSince is not null)
        {
            Log.Memory(logger, "at the first assignment");
        }

        _waitingSince = null;
    }

    /// <summary>A write finished: its dead letters, rows and partitions.</summary>
    public void Committed(WriteResult result, WriteBatch batch, TimeSpan elapsed)
    {
        foreach (var deadLetter in result.DeadLetters)
        {
            Log.DeadLettered(logger, new TopicPartition(deadLetter.Topic, deadLetter.Partition), deadLetter.Offset, deadLetter.Mapping, deadLetter.ErrorMessage);
            metrics.DeadLettered(deadLetter.Mapping, deadLetter.ErrorKind);
        }

        if (result.Committed.Count > 0)
        {
            metrics.BatchCommitted(elapsed);
            metrics.RowsWritten(result.Rows);
            _rowsSinceProgress += result.Rows;
            foreach (var slice in result.Committed)
            {
                metrics.Committed(slice.Partition, slice.NextOffset);
            }
        }

        Log.BatchCommitted(logger, batch.Messages, result.Rows, result.Committed.Count, (long)elapsed.TotalMilliseconds);
        Log.Memory(logger, "after a commit");
    }

    /// <summary>A write running this long is reported, then again every as long while it runs.</summary>
    public static readonly TimeSpan SlowWrite = TimeSpan.FromSeconds(30);

    private DateTime _nextSlowWriteReport;

    /// <summary>Whether a write running for <paramref name="elapsed"/> is to be reported now.</summary>
    public bool SlowWriteDue(TimeSpan elapsed, DateTime now)
    {
        if (elapsed < SlowWrite || now < _nextSlowWriteReport)
        {
            return false;
        }

        _nextSlowWriteReport = now + SlowWrite;
        return true;
    }

    /// <summary>Whether the lag gauges are due for a refresh from the cached high watermarks.</summary>
    public bool WatermarksDue(DateTime now)
    {
        if (now - _lastWatermarks < s_watermarkInterval)
        {
            return false;
        }

        _lastWatermarks = now;
        return true;
    }

    public void Tick(DateTime now, int partitions)
    {
        if (_waitingSince is { } waiting && now >= _nextWaitNotice)
        {
            _nextWaitNotice = now + s_assignmentWaitRepeat;
            Log.WaitingForAssignment(logger, groupId, (long)(now - waiting).TotalSeconds);
        }

        _lastProgress ??= now;
        var elapsed = now - _lastProgress.Value;
        if (elapsed < s_progressInterval)
        {
            return;
        }

        var lag = metrics.TotalLag();
        if (_rowsSinceProgress > 0 || lag > 0)
        {
            var rate = _rowsSinceProgress / elapsed.TotalSeconds;
            var eta = rate > 0 ? TimeSpan.FromSeconds(Math.Min(lag / rate, TimeSpan.MaxValue.TotalSeconds / 2)).ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture) : "unknown";
            Log.Progress(logger, (long)rate, lag, eta, partitions);
        }

        _lastProgress = now;
        _rowsSinceProgress = 0;
    }
}
