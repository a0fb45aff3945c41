using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using SinkConnector.Failures;
using SinkConnector.Observability;

namespace SinkConnector.Engine;

/// <summary>
/// Step 2 of the protocol (docs/exactly-once.md) in the background: at most two batches write at once (the second
/// writes its rows while the first commits; <see cref="BatchTransaction"/> orders their offset checks), never two that
/// write exclusively (upserts); each retries transient failures with backoff until it commits or is abandoned at
/// shutdown; results are taken in the order the writes started. The loop decides when to start one and what to do
/// with its result.
/// </summary>
/// <param name="prepare">Once per batch before its first attempt (<see cref="IBatchWriter.PrepareAsync"/>).</param>
/// <param name="write">One attempt (<see cref="BatchTransaction.WriteAsync"/>): batch, sequence number, predecessor.</param>
/// <param name="writesExclusively">Whether a batch must not overlap another such batch (<see cref="IBatchWriter.WritesExclusively"/>).</param>
internal sealed class WritePipeline(
    Func<WriteBatch, Task> prepare,
    Func<WriteBatch, long, Task?, CancellationToken, Task<WriteResult>> write,
    Func<WriteBatch, bool> writesExclusively,
    SinkHealth health,
    SinkMetrics metrics,
    ILogger logger,
    TimeProvider time) : IDisposable
{
    private readonly CancellationTokenSource _abandon = new();

    // The oldest write still to be finished, and the one started after it.
    private Write? _oldest;
    private Write? _next;
    private long _started;

    /// <summary>
    /// A batch being written: <see cref="Batch"/> belongs to the write task until it is done (it drops fenced
    /// partitions), so the loop asks <see cref="Partitions"/>, taken when the write started.
    /// </summary>
    private sealed record Write(Task<WriteResult> Task, WriteBatch Batch, bool Exclusive, long StartedAt, WriteProgress Progress, IReadOnlySet<TopicPartition> Partitions);

    /// <summary>Where a write task is, for the loop's slow-write warning (written by the task, read by the loop).</summary>
    private sealed class WriteProgress
    {
        private volatile string _stage = "converting";

        public string Stage => _stage;

        public void Set(string stage) => _stage = stage;
    }

    /// <summary>The oldest write still running: how long it has run, its batch and where it is; null when none is.</summary>
    public (TimeSpan Elapsed, WriteBatch Batch, string Stage)? OldestRunning =>
        _oldest is { } oldest && !oldest.Task.IsCompleted ? (time.GetElapsedTime(oldest.StartedAt), oldest.Batch, oldest.Progress.Stage) : null;

    /// <summary>The write in flight that holds messages of <paramref name="partition"/> (the oldest such): how long it has run and where it is; null when none does.</summary>
    public (TimeSpan Elapsed, string Stage)? Holding(TopicPartition partition) =>
        new[] { _oldest, _next }.FirstOrDefault(w => w is not null && w.Partitions.Contains(partition)) is { } write
            ? (time.GetElapsedTime(write.StartedAt), write.Task.IsCompleted ? "done, its result not taken yet" : write.Progress.Stage)
            : null;

    /// <summary>How many writes are in flight (0 to 2).</summary>
    public int Count => (_oldest is null ? 0 : 1) + (_next is null ? 0 : 1);

    /// <summary>A write's outcome, taken in start order.</summary>
    public sealed record Finished(WriteResult Result, WriteBatch Batch, TimeSpan Elapsed);

    public bool IsEmpty => _oldest is null;

    /// <summary>Whether the oldest write is done (its result can be taken without waiting).</summary>
    public bool OldestIsDone => _oldest?.Task.IsCompleted == true;

    /// <summary>The writes in flight, oldest first.</summary>
    public IEnumerable<Task> Running => new[] { _oldest?.Task, _next?.Task }.OfType<Task>();

    /// <summary>Whether <paramref name="batch"/> may start now: a slot is free and it does not overlap an exclusive write.</summary>
    public bool HasRoomFor(WriteBatch batch) => _next is null && !(_oldest is { Exclusive: true } && writesExclusively(batch));

    /// <summary>Whether the oldest write finishes within <paramref name="wait"/> (false also with nothing in flight).</summary>
    public async Task<bool> OldestFinishesWithinAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (_oldest is not { } oldest)
        {
            return false;
        }

        await Task.WhenAny(oldest.Task, Task.Delay(wait, time, cancellationToken)).ConfigureAwait(false);
        return oldest.Task.IsCompleted;
    }

    /// <summary>Starts writing <paramref name="batch"/>; the caller checked <see cref="HasRoomFor"/>.</summary>
    public void Start(WriteBatch batch)
    {
        if (!HasRoomFor(batch))
        {
            throw new InvalidOperationException("no room for another write");
        }

        var sequence = _started++;
        Task? predecessor = _oldest?.Task;
        var abandon = _abandon.Token;
        var progress = new WriteProgress();
        // Read before the task starts: from then on the batch is the task's.
        var exclusive = writesExclusively(batch);
        var partitions = batch.Partitions.Keys.ToHashSet();
        var write = new Write(Task.Run(async () =>
        {
            await PrepareWithRetriesAsync(batch, progress, abandon);
            return await WriteWithRetriesAsync(batch, sequence, predecessor, progress, abandon);
        }), batch, exclusive, time.GetTimestamp(), progress, partitions);
        if (_oldest is null)
        {
            _oldest = write;
        }
        else
        {
            _next = write;
        }
    }

    /// <summary>Waits for the oldest write and takes its result; a write that failed for good throws here.</summary>
    public async Task<Finished> TakeOldestAsync()
    {
        var oldest = _oldest ?? throw new InvalidOperationException("no write in flight");
        var result = await oldest.Task;
        _oldest = _next;
        _next = null;
        return new Finished(result, oldest.Batch, time.GetElapsedTime(oldest.StartedAt));
    }

    /// <summary>Stops retrying: at shutdown past the grace, or after a failure. What did not commit is consumed again from the stored offsets.</summary>
    public Task AbandonAsync() => _abandon.CancelAsync();

    /// <summary>
    /// A batch whose conversion needs the schema registry while it does not answer is retried like a write to a
    /// Postgres that does not: its messages are fine, so they must not become dead letters, and the loop keeps polling
    /// (paused) while this write is in flight. The writer converts again what failed (<see cref="IBatchWriter.PrepareAsync"/>).
    /// </summary>
    private async Task PrepareWithRetriesAsync(WriteBatch batch, WriteProgress progress, CancellationToken abandon)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await prepare(batch);
                if (attempt > 1)
                {
                    health.RegistryAnswered();
                }

                return;
            }
            catch (SchemaRegistryUnavailableException e) when (!abandon.IsCancellationRequested)
            {
                health.RegistryFailed();
                metrics.Retried("convert");
                var delay = RetryBackoff.Database.Delay(attempt);
                Log.ConvertRetry(logger, (long)delay.TotalMilliseconds, attempt, e.Message);
                progress.Set($"converting, waiting {(long)delay.TotalMilliseconds} ms to retry after: {e.Message}");
                await Task.Delay(delay, time, abandon);
            }
        }
    }

    /// <summary>
    /// Retrying is safe even when a failed attempt did commit (the reply was lost): the offsets no longer match, the
    /// retry is fenced, and the partitions are claimed again from what is stored.
    /// </summary>
    private async Task<WriteResult> WriteWithRetriesAsync(WriteBatch batch, long sequence, Task? predecessor, WriteProgress progress, CancellationToken abandon)
    {
        for (var attempt = 1; ; attempt++)
        {
            progress.Set(predecessor is { IsCompleted: false }
                ? $"writing, attempt {attempt}, the write before it still running"
                : $"writing, attempt {attempt}");
            try
            {
                var result = await write(batch, sequence, predecessor, CancellationToken.None);
                health.DatabaseAnswered();
                return result;
            }
            catch (Exception e) when (PostgresErrors.IsTransient(e) && !abandon.IsCancellationRequested)
            {
                health.DatabaseFailed();
                metrics.Retried("write");
                var delay = RetryBackoff.Database.Delay(attempt);
                Log.WriteRetry(logger, (long)delay.TotalMilliseconds, attempt, e.Message);
                progress.Set($"waiting {(long)delay.TotalMilliseconds} ms to retry after: {e.Message}");
                await Task.Delay(delay, time, abandon);
            }
        }
    }

    public void Dispose()
    {
        _abandon.Cancel();
        _abandon.Dispose();
    }
}
