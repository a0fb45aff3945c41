using Confluent.Kafka;
using SinkConnector.Engine;
using SinkConnector.Observability;

namespace SinkConnector.UnitTests.Engine;

/// <summary>
/// Two wait for a write to end: the loop (for room to start the next batch) and the write after it (after its offset
/// check failed while this one ran, <see cref="BatchTransaction"/>). Neither may hold up the other.
/// </summary>
public sealed class WritePipelineWaitersTests : IDisposable
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(15);

    private readonly SinkMetrics _metrics = new();

    // Write 0 ends when the test says, on the test's thread (no RunContinuationsAsynchronously: what follows runs there).
    private readonly TaskCompletionSource<WriteResult> _firstEnds = new();
    private readonly TaskCompletionSource _secondWaits = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ManualResetEventSlim _secondResumed = new();
    private readonly WritePipeline _pipeline;

    public WritePipelineWaitersTests() =>
        _pipeline = new WritePipeline(_ => Task.CompletedTask, Write, _ => false, new SinkHealth(), _metrics, new RecordingLogger(), TimeProvider.System);

    private Task<WriteResult> Write(WriteBatch batch, long sequence, Task? predecessor, CancellationToken cancellationToken) =>
        sequence == 0 ? _firstEnds.Task : WaitForPredecessorAsync(predecessor!);

    /// <summary>What BatchTransaction does after a rollback while the write before it runs: wait for it to end, then go on.</summary>
    private async Task<WriteResult> WaitForPredecessorAsync(Task predecessor)
    {
        var ended = Task.WhenAny(predecessor);
        _secondWaits.SetResult();
        await ended;
        _secondResumed.Set();
        return new WriteResult([], [], 0, []);
    }

    private static WriteBatch Batch()
    {
        var batch = new WriteBatch(new RecordingContent());
        batch.Slice(new TopicPartition("inserts", 0), epoch: 1, expectedOffset: null);
        return batch;
    }

    public void Dispose()
    {
        _pipeline.Dispose();
        _metrics.Dispose();
        _secondResumed.Dispose();
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task The_next_write_resumes_when_the_write_it_waits_for_ends_while_the_loop_resumed_by_that_end_keeps_its_thread()
    {
        var ct = TestContext.Current.CancellationToken;
        _pipeline.Start(Batch());
        // The loop waits first (a due batch with no room yet), then the next write starts and waits too.
        var loopResumed = _pipeline.OldestFinishesWithinAsync(TimeSpan.FromMinutes(5), ct);
        // The resumed loop polls on without yielding when nothing more is due: it keeps whatever thread resumed it.
        var nextResumedWhileLoopRan = loopResumed.ContinueWith(_ => _secondResumed.Wait(s_limit, ct),
            ct, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _pipeline.Start(Batch());
        await _secondWaits.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);

        _firstEnds.SetResult(new WriteResult([], [], 1, []));

        Assert.True(await nextResumedWhileLoopRan, "the write after the one that ended did not resume while the loop kept the thread");
        Assert.True(await loopResumed);
    }
}
