using Confluent.Kafka;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using SinkConnector.Engine;
using SinkConnector.Failures;
using SinkConnector.Observability;

namespace SinkConnector.UnitTests.Engine;

/// <summary>The write pipeline's rules with writes the test finishes itself, on a fake clock: slots, exclusive batches, order, retries.</summary>
public sealed class WritePipelineTests : IDisposable
{
    private static readonly DateTimeOffset s_t0 = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private readonly TimerCountingTime _time = new(s_t0);
    private readonly RecordingLogger _logger = new();
    private readonly SinkMetrics _metrics = new();
    private readonly SinkHealth _health;
    private readonly List<Attempt> _attempts = [];
    private readonly List<WriteBatch> _prepared = [];
    private readonly Queue<Exception> _prepareFailures = new();
    private readonly WritePipeline _pipeline;

    public WritePipelineTests()
    {
        _health = new SinkHealth(_time);
        _pipeline = new WritePipeline(Prepare, Write, b => b.Partitions.Keys.Any(p => p.Topic == "upserts"), _health, _metrics, _logger, _time);
    }

    /// <summary>One call of the write delegate; the test decides its outcome.</summary>
    private sealed record Attempt(WriteBatch Batch, long Sequence, Task? Predecessor)
    {
        public TaskCompletionSource<WriteResult> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>A fake clock that counts the timers created on it: a retry's backoff delay is one.</summary>
    private sealed class TimerCountingTime(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private int _timers;

        public int Timers => Volatile.Read(ref _timers);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            // Counted once registered: a test that sees the count and advances the clock must find the timer there.
            // Counted before, a preempted registration came after the advance, and the timer never fired.
            var timer = base.CreateTimer(callback, state, dueTime, period);
            Interlocked.Increment(ref _timers);
            return timer;
        }
    }

    private Task Prepare(WriteBatch batch)
    {
        lock (_prepared)
        {
            _prepared.Add(batch);
            if (_prepareFailures.TryDequeue(out var failure))
            {
                return Task.FromException(failure);
            }
        }

        return Task.CompletedTask;
    }

    private Task<WriteResult> Write(WriteBatch batch, long sequence, Task? predecessor, CancellationToken cancellationToken)
    {
        var attempt = new Attempt(batch, sequence, predecessor);
        lock (_attempts)
        {
            _attempts.Add(attempt);
        }

        return attempt.Outcome.Task;
    }

    private int AttemptCount
    {
        get
        {
            lock (_attempts)
            {
                return _attempts.Count;
            }
        }
    }

    /// <summary>The <paramref name="nth"/> attempt (1: the first) of the write with <paramref name="sequence"/>: writes start on the thread pool, in any order.</summary>
    private async Task<Attempt> AttemptAsync(long sequence, int nth = 1)
    {
        Attempt? found = null;
        await Eventually.TrueAsync(() =>
        {
            lock (_attempts)
            {
                found = _attempts.Where(a => a.Sequence == sequence).Skip(nth - 1).FirstOrDefault();
            }

            return found is not null;
        }, $"attempt {nth} of write {sequence}");
        return found!;
    }

    private static WriteBatch Plain() => Batch("inserts");

    private static WriteBatch Exclusive() => Batch("upserts");

    private static WriteBatch Batch(string topic)
    {
        var batch = new WriteBatch(new RecordingContent());
        batch.Slice(new TopicPartition(topic, 0), epoch: 1, expectedOffset: null);
        return batch;
    }

    private static WriteResult Result(int rows) => new([], [], rows, []);

    public void Dispose()
    {
        _pipeline.Dispose();
        _metrics.Dispose();
    }

    [Fact]
    public void At_most_two_writes_run_at_once()
    {
        Assert.True(_pipeline.IsEmpty);
        Assert.True(_pipeline.HasRoomFor(Plain()));
        _pipeline.Start(Plain());
        Assert.True(_pipeline.HasRoomFor(Plain()));
        _pipeline.Start(Plain());

        Assert.False(_pipeline.HasRoomFor(Plain()));
        Assert.False(_pipeline.HasRoomFor(Exclusive()));
        Assert.Throws<InvalidOperationException>(() => _pipeline.Start(Plain()));
        Assert.Equal(2, _pipeline.Running.Count());
    }

    [Fact]
    public void An_exclusive_batch_never_starts_beside_another_exclusive_one_but_may_beside_a_plain_one()
    {
        _pipeline.Start(Exclusive());

        Assert.False(_pipeline.HasRoomFor(Exclusive()));
        Assert.Throws<InvalidOperationException>(() => _pipeline.Start(Exclusive()));
        Assert.True(_pipeline.HasRoomFor(Plain()));
    }

    [Fact]
    public void An_exclusive_batch_may_start_beside_a_plain_one()
    {
        _pipeline.Start(Plain());

        Assert.True(_pipeline.HasRoomFor(Exclusive()));
        _pipeline.Start(Exclusive());
        Assert.Equal(2, _pipeline.Running.Count());
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task An_exclusive_batch_waits_until_the_exclusive_write_before_it_is_taken()
    {
        _pipeline.Start(Plain());
        _pipeline.Start(Exclusive());
        (await AttemptAsync(0)).Outcome.SetResult(Result(1));
        await _pipeline.TakeOldestAsync();

        // The exclusive write is now the oldest: another exclusive batch still has to wait for it.
        Assert.False(_pipeline.HasRoomFor(Exclusive()));
        Assert.True(_pipeline.HasRoomFor(Plain()));
        (await AttemptAsync(1)).Outcome.SetResult(Result(2));
        await _pipeline.TakeOldestAsync();
        Assert.True(_pipeline.HasRoomFor(Exclusive()));
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task A_loop_resumed_by_a_finished_write_never_holds_back_the_write_waiting_for_it()
    {
        // The consumer loop, once resumed, runs without yielding for as long as no batch is due (Poll blocks its thread).
        // Resumed on the thread that finished a write, it held back every continuation registered after its own on that
        // write's task: the next write's wait for its predecessor never ended, and the sink stalled with two writes in
        // flight (a dump of a stalled SmokeTests run: the loop polling inside the first write's commit continuation).
        _pipeline.Start(Plain());
        _pipeline.Start(Plain());
        var first = await AttemptAsync(0);
        var second = await AttemptAsync(1);
        var loop = LoopUntilTheSecondWriteEndsAsync();
        var secondWaitsForFirst = FinishAfterPredecessorAsync(second);

        first.Outcome.SetResult(Result(1));

        Assert.True(await loop, "the loop, resumed by the first write's end, saw the second write end without yielding");
        await secondWaitsForFirst;

        async Task<bool> LoopUntilTheSecondWriteEndsAsync()
        {
            await _pipeline.OldestFinishesWithinAsync(TimeSpan.FromHours(1), CancellationToken.None).ConfigureAwait(false);
            // Like the loop's Poll: blocks this thread, never awaits.
            return SpinWait.SpinUntil(() => _pipeline.Running.Last().IsCompleted, TimeSpan.FromSeconds(5));
        }

        static async Task FinishAfterPredecessorAsync(Attempt attempt)
        {
            // As BatchTransaction waits for the write before it after a rolled-back offset check.
            await Task.WhenAny(attempt.Predecessor!).ConfigureAwait(false);
            attempt.Outcome.SetResult(Result(2));
        }
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task The_second_write_gets_the_first_writes_task_as_predecessor_and_the_next_sequence_number()
    {
        var a = Plain();
        var b = Plain();
        _pipeline.Start(a);
        _pipeline.Start(b);
        var first = await AttemptAsync(0);
        var second = await AttemptAsync(1);

        Assert.Same(a, first.Batch);
        Assert.Same(b, second.Batch);
        Assert.Null(first.Predecessor);
        Assert.Same(_pipeline.Running.First(), second.Predecessor);

        first.Outcome.SetResult(Result(1));
        await _pipeline.TakeOldestAsync();
        Assert.True(second.Predecessor!.IsCompletedSuccessfully);

        var c = Plain();
        _pipeline.Start(c);
        var third = await AttemptAsync(2);
        Assert.Same(c, third.Batch);
        Assert.Same(_pipeline.Running.First(), third.Predecessor);
        Assert.False(third.Predecessor!.IsCompleted);
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task A_running_write_says_how_long_it_has_run_and_where_it_is_until_it_is_done()
    {
        Assert.Null(_pipeline.OldestRunning);
        var a = Plain();
        var b = Plain();
        _pipeline.Start(a);
        _pipeline.Start(b);
        var first = await AttemptAsync(0);
        await AttemptAsync(1);
        _time.Advance(TimeSpan.FromSeconds(40));

        var running = Assert.NotNull(_pipeline.OldestRunning);
        Assert.Equal(TimeSpan.FromSeconds(40), running.Elapsed);
        Assert.Same(a, running.Batch);
        Assert.Equal("write 0, attempt 1: starting (none before it in flight; stage unchanged for 40 s)", running.Stage);
        Assert.Equal(2, _pipeline.Count);

        first.Outcome.SetResult(Result(1));
        await _pipeline.Running.First();
        Assert.Null(_pipeline.OldestRunning);
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task The_write_holding_a_partition_is_found_by_the_partitions_it_started_with_until_its_result_is_taken()
    {
        var p0 = new TopicPartition("inserts", 0);
        var p1 = new TopicPartition("inserts", 1);
        var a = new WriteBatch(new RecordingContent());
        a.Slice(p0, epoch: 1, expectedOffset: null);
        var b = new WriteBatch(new RecordingContent());
        b.Slice(p1, epoch: 1, expectedOffset: null);
        _pipeline.Start(a);
        _time.Advance(TimeSpan.FromSeconds(5));
        _pipeline.Start(b);
        var first = await AttemptAsync(0);
        var second = await AttemptAsync(1);
        _time.Advance(TimeSpan.FromSeconds(40));

        var holding = Assert.NotNull(_pipeline.Holding(p0));
        Assert.Equal(TimeSpan.FromSeconds(45), holding.Elapsed);
        Assert.StartsWith("write 0, attempt 1: starting (none before it in flight; stage unchanged for ", holding.Stage, StringComparison.Ordinal);
        // A fenced partition leaves the running write's batch; the loop still learns the write started with it.
        a.Remove(p0);
        Assert.NotNull(_pipeline.Holding(p0));
        second.Outcome.SetResult(Result(1));
        await _pipeline.Running.Last();
        Assert.Equal((TimeSpan.FromSeconds(40), "done, its result not taken yet"), _pipeline.Holding(p1));
        Assert.Null(_pipeline.Holding(new TopicPartition("inserts", 2)));

        first.Outcome.SetResult(Result(1));
        await _pipeline.TakeOldestAsync();
        await _pipeline.TakeOldestAsync();
        Assert.Null(_pipeline.Holding(p0));
        Assert.Null(_pipeline.Holding(p1));
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task A_stage_names_the_write_its_attempt_and_whether_the_write_before_it_has_ended_as_it_is_when_read()
    {
        var a = Plain();
        var b = Plain();
        _pipeline.Start(a);
        _pipeline.Start(b);
        var first = await AttemptAsync(0);
        await AttemptAsync(1);
        b.Progress.Set("transaction 1: waiting in Postgres for write 0's transaction to end");
        _time.Advance(TimeSpan.FromSeconds(7));

        Assert.Equal("write 1, attempt 1: transaction 1: waiting in Postgres for write 0's transaction to end (write 0 before it still running; stage unchanged for 7 s)",
            b.Progress.Describe());
        first.Outcome.SetResult(Result(1));
        await _pipeline.TakeOldestAsync();
        Assert.StartsWith("write 1, attempt 1: transaction 1: waiting in Postgres for write 0's transaction to end (write 0 before it ended;", b.Progress.Describe(), StringComparison.Ordinal);
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task Only_the_oldest_write_whose_stage_stays_unchanged_longer_than_the_limit_since_it_became_the_oldest_is_hung()
    {
        var limit = TimeSpan.FromSeconds(120);
        var a = Plain();
        var b = Plain();
        _pipeline.Start(a);
        _pipeline.Start(b);
        var first = await AttemptAsync(0);
        await AttemptAsync(1);

        _time.Advance(TimeSpan.FromSeconds(100));
        a.Progress.Set("transaction 2: committing");
        Assert.Null(_pipeline.Hung(limit));
        _time.Advance(TimeSpan.FromSeconds(100));
        Assert.Null(_pipeline.Hung(limit));
        _time.Advance(TimeSpan.FromSeconds(21));
        Assert.StartsWith("write 0, attempt 1: transaction 2: committing", _pipeline.Hung(limit), StringComparison.Ordinal);

        // The second write waited 221 s for the first without a stage change: not hung before it has been the oldest that long.
        first.Outcome.SetResult(Result(1));
        await _pipeline.TakeOldestAsync();
        Assert.Null(_pipeline.Hung(limit));
        _time.Advance(TimeSpan.FromSeconds(121));
        Assert.StartsWith("write 1, attempt 1: starting", _pipeline.Hung(limit), StringComparison.Ordinal);

        // A writer's own code that reports nothing (library mode's handlers) may take as long as it takes.
        b.Progress.Set("transaction 1: writing rows", bounded: false);
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Null(_pipeline.Hung(limit));
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task Dropped_writes_give_their_claims_stop_retrying_and_the_next_write_has_no_predecessor()
    {
        var a = new WriteBatch(new RecordingContent());
        a.Slice(new TopicPartition("inserts", 0), epoch: 3, expectedOffset: 10);
        var b = new WriteBatch(new RecordingContent());
        b.Slice(new TopicPartition("inserts", 1), epoch: 4, expectedOffset: null);
        _pipeline.Start(a);
        _pipeline.Start(b);
        var dropped = _pipeline.Running.First();
        var first = await AttemptAsync(0);
        await AttemptAsync(1);

        var claims = _pipeline.DropAll();

        Assert.Equal([(new TopicPartition("inserts", 0), 3L), (new TopicPartition("inserts", 1), 4L)], claims);
        Assert.True(_pipeline.IsEmpty);
        Assert.Equal(0, _pipeline.Count);
        Assert.Null(_pipeline.OldestRunning);
        // A dropped write that wakes up with a transient failure is not retried: its failure ends it.
        first.Outcome.SetException(new TimeoutException("woke up"));
        await Assert.ThrowsAsync<TimeoutException>(() => dropped);
        lock (_attempts)
        {
            Assert.Single(_attempts, x => x.Sequence == 0);
        }

        _pipeline.Start(Plain());
        var next = await AttemptAsync(2);
        Assert.Null(next.Predecessor);
    }

    [Fact]
    public void A_slow_write_is_reported_after_30_s_then_every_30_s_while_it_runs()
    {
        var report = new LoopReport("group", _metrics, _logger);
        var t0 = s_t0.UtcDateTime;

        Assert.False(report.SlowWriteDue(TimeSpan.FromSeconds(29), t0));
        Assert.True(report.SlowWriteDue(TimeSpan.FromSeconds(30), t0));
        Assert.False(report.SlowWriteDue(TimeSpan.FromSeconds(45), t0.AddSeconds(15)));
        Assert.True(report.SlowWriteDue(TimeSpan.FromSeconds(60), t0.AddSeconds(30)));
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task Results_are_taken_in_start_order_even_when_the_second_write_finishes_first()
    {
        var a = Plain();
        var b = Plain();
        _pipeline.Start(a);
        _time.Advance(TimeSpan.FromSeconds(1));
        _pipeline.Start(b);
        var first = await AttemptAsync(0);
        var second = await AttemptAsync(1);

        second.Outcome.SetResult(Result(2));
        await _pipeline.Running.Last();
        Assert.False(_pipeline.OldestIsDone);
        var taking = _pipeline.TakeOldestAsync();
        Assert.False(taking.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(2));
        first.Outcome.SetResult(Result(1));
        var oldest = await taking;
        Assert.Same(a, oldest.Batch);
        Assert.Equal(1, oldest.Result.Rows);
        Assert.Equal(TimeSpan.FromSeconds(3), oldest.Elapsed);

        Assert.True(_pipeline.OldestIsDone);
        var next = await _pipeline.TakeOldestAsync();
        Assert.Same(b, next.Batch);
        Assert.Equal(2, next.Result.Rows);
        Assert.Equal(TimeSpan.FromSeconds(2), next.Elapsed);
        Assert.True(_pipeline.IsEmpty);
        await Assert.ThrowsAsync<InvalidOperationException>(_pipeline.TakeOldestAsync);
    }

    public static TheoryData<string> TransientFailures => ["npgsql-io", "timeout"];

    [Theory(Timeout = Eventually.TestTimeoutMs)]
    [MemberData(nameof(TransientFailures))]
    public async Task A_transient_failure_is_retried_after_the_backoff_delay_on_the_clock(string failure)
    {
        var batch = Plain();
        _pipeline.Start(batch);
        var first = await AttemptAsync(0);

        first.Outcome.SetException(failure == "timeout" ? new TimeoutException("x") : new NpgsqlException("x", new IOException()));
        await Eventually.TrueAsync(() => _time.Timers == 1, "the backoff delay");

        // The first retry waits 50 to 100 ms (100 ms with jitter); nothing happens until the clock gets there.
        var retry = Assert.Single(_logger.Entries, e => e.Id.Id == 1010);
        var delayMs = long.Parse(retry.Message.Split("retrying in ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(delayMs, 50, 100);
        _time.Advance(TimeSpan.FromMilliseconds(delayMs - 1));
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Equal(1, AttemptCount);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        var second = await AttemptAsync(0, nth: 2);
        Assert.Same(batch, second.Batch);
                Assert.Same(first.Predecessor, second.Predecessor);

        second.Outcome.SetResult(Result(5));
        var finished = await _pipeline.TakeOldestAsync();
        Assert.Equal(5, finished.Result.Rows);
        // Prepared once, however often it was attempted.
        Assert.Equal([batch], _prepared);
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task A_prepare_that_finds_the_schema_registry_unreachable_is_prepared_again_after_the_backoff_before_any_write()
    {
        lock (_prepared)
        {
            _prepareFailures.Enqueue(new SchemaRegistryUnavailableException("the schema registry did not answer for schema id 3", new HttpRequestException("refused")));
        }

        var batch = Plain();
        _pipeline.Start(batch);
        await Eventually.TrueAsync(() => _time.Timers == 1, "the backoff delay");

        var retry = Assert.Single(_logger.Entries, e => e.Id.Id == 1031);
        Assert.Contains("schema id 3", retry.Message, StringComparison.Ordinal);
        Assert.Equal(0, AttemptCount);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        var attempt = await AttemptAsync(0);
        attempt.Outcome.SetResult(Result(3));

        Assert.Equal(3, (await _pipeline.TakeOldestAsync()).Result.Rows);
        Assert.Equal([batch, batch], _prepared);
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task A_prepare_that_stops_the_sink_surfaces_without_a_retry_or_a_write()
    {
        lock (_prepared)
        {
            _prepareFailures.Enqueue(new SinkStoppedException("on_error is 'fail'"));
        }

        _pipeline.Start(Plain());

        await Assert.ThrowsAsync<SinkStoppedException>(_pipeline.TakeOldestAsync);
        Assert.Equal(0, AttemptCount);
        Assert.Equal(0, _time.Timers);
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task A_non_transient_failure_surfaces_when_the_result_is_taken_without_a_retry()
    {
        _pipeline.Start(Plain());
        var failure = new PostgresException("duplicate key", "ERROR", "ERROR", PostgresErrorCodes.UniqueViolation);

        (await AttemptAsync(0)).Outcome.SetException(failure);

        var thrown = await Assert.ThrowsAsync<PostgresException>(_pipeline.TakeOldestAsync);
        Assert.Same(failure, thrown);
        Assert.Equal(1, AttemptCount);
        Assert.Equal(0, _time.Timers);
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task Abandoning_stops_a_write_waiting_to_retry()
    {
        _pipeline.Start(Plain());
        (await AttemptAsync(0)).Outcome.SetException(new TimeoutException("x"));
        await Eventually.TrueAsync(() => _time.Timers == 1, "the backoff delay");

        await _pipeline.AbandonAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(_pipeline.TakeOldestAsync);
        _time.Advance(TimeSpan.FromMinutes(1));
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Equal(1, AttemptCount);
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task After_abandoning_a_transient_failure_surfaces_instead_of_being_retried()
    {
        _pipeline.Start(Plain());
        var first = await AttemptAsync(0);

        await _pipeline.AbandonAsync();
        first.Outcome.SetException(new TimeoutException("x"));

        await Assert.ThrowsAsync<TimeoutException>(_pipeline.TakeOldestAsync);
        Assert.Equal(1, AttemptCount);
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task The_oldest_write_finishing_within_a_wait_is_told_apart_from_one_that_does_not()
    {
        var ct = TestContext.Current.CancellationToken;
        Assert.False(await _pipeline.OldestFinishesWithinAsync(TimeSpan.FromSeconds(1), ct));

        _pipeline.Start(Plain());
        var timers = _time.Timers;
        var slow = _pipeline.OldestFinishesWithinAsync(TimeSpan.FromSeconds(1), ct);
        Assert.Equal(timers + 1, _time.Timers);
        _time.Advance(TimeSpan.FromMilliseconds(999));
        await Task.Delay(50, ct);
        Assert.False(slow.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(await slow);

        var quick = _pipeline.OldestFinishesWithinAsync(TimeSpan.FromSeconds(1), ct);
        (await AttemptAsync(0)).Outcome.SetResult(Result(1));
        Assert.True(await quick);
        Assert.True(_pipeline.OldestIsDone);
    }
}
