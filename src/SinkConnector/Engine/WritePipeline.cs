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

    // When the oldest became the oldest: until then it may wait for the write before it as long as that one runs.
    private long _oldestSince;

    /// <summary>
    /// A batch being written: <see cref="Batch"/> belongs to the write task until it is done (it drops fenced
    /// partitions), so the loop asks <see cref="Partitions"/> and <see cref="Claims"/>, taken when the write started.
    /// </summary>
    private sealed record Write(
        Task<WriteResult> Task, WriteBatch Batch, bool Exclusive, long StartedAt, IReadOnlySet<TopicPartition> Partitions,
        IReadOnlyList<(TopicPartition Partition, long Epoch)> Claims, CancellationTokenSource Abandon);

    /// <summary>The oldest write still running: how long it has run, its batch and where it is; null when none is.</summary>
    public (TimeSpan Elapsed, WriteBatch Batch, string Stage)? OldestRunning =>
        _oldest is { } oldest && !oldest.Task.IsCompleted ? (time.GetElapsedTime(oldest.StartedAt), oldest.Batch, oldest.Batch.Progress.Describe()) : null;

    /// <summary>The write in flight that holds messages of <paramref name="partition"/> (the oldest such): how long it has run and where it is; null when none does.</summary>
    public (TimeSpan Elapsed, string Stage)? Holding(TopicPartition partition) =>
        new[] { _oldest, _next }.FirstOrDefault(w => w is not null && w.Partitions.Contains(partition)) is { } write
            ? (time.GetElapsedTime(write.StartedAt), write.Task.IsCompleted ? "done, its result not taken yet" : write.Batch.Progress.Describe())
            : null;

    /// <summary>
    /// The oldest write when it is still running and its stage, one that cannot last that long unless stuck
    /// (<see cref="WriteProgress.Bounded"/>), has not changed for longer than <paramref name="limit"/>:
    /// where it is; null otherwise. Only the oldest, and only counting from when it became the oldest: the one after it
    /// may wait for it as long as it runs (retrying through a Postgres outage, say).
    /// </summary>
    public string? Hung(TimeSpan limit) =>
        _oldest is { } oldest && !oldest.Task.IsCompleted && oldest.Batch.Progress is { Bounded: true } progress && progress.Unchanged > limit
        && time.GetElapsedTime(_oldestSince) > limit
            ? oldest.Batch.Progress.Describe()
            : null;

    /// <summary>
    /// Gives up on every write in flight (a hung one and the one after it, which can never commit correctly without
    /// it): their retries stop, their results are never taken, and the next write starts a fresh sequence with no
    /// predecessor. Returns the claims they were written under, for the loop to claim again: a dropped write that
    /// wakes up later is fenced by the new epoch. Their contents are not released: a task that wakes up may still
    /// read them.
    /// </summary>
    public IReadOnlyList<(TopicPartition Partition, long Epoch)> DropAll()
    {
        var dropped = new[] { _oldest, _next }.OfType<Write>().ToList();
        _oldest = null;
        _next = null;
        foreach (var write in dropped)
        {
            write.Abandon.Cancel();
            // Observed, so a dropped write that fails later is no unobserved task exception.
            _ = write.Task.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }

        return [.. dropped.SelectMany(w => w.Claims)];
    }

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
        var abandon = CancellationTokenSource.CreateLinkedTokenSource(_abandon.Token);
        var progress = batch.Progress;
        progress.Started(sequence, predecessor, time);
        // Read before the task starts: from then on the batch is the task's.
        var exclusive = writesExclusively(batch);
        var partitions = batch.Partitions.Keys.ToHashSet();
        var claims = batch.Partitions.Values.Select(s => (s.Partition, s.Epoch)).ToList();
        var write = new Write(Task.Run(async () =>
        {
            await PrepareWithRetriesAsync(batch, progress, abandon.Token);
            return await WriteWithRetriesAsync(batch, sequence, predecessor, progress, abandon.Token);
        }), batch, exclusive, time.GetTimestamp(), partitions, claims, abandon);
        if (_oldest is null)
        {
            _oldest = write;
            _oldestSince = write.StartedAt;
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
        oldest.Abandon.Dispose();
        _oldest = _next;
        _oldestSince = time.GetTimestamp();
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
            progress.Attempt(attempt);
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
