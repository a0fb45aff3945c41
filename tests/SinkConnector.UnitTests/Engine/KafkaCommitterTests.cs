using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using SinkConnector.Engine;

namespace SinkConnector.UnitTests.Engine;

/// <summary>Best-effort Kafka commits: one at a time, coalesced to the latest offset per partition, never failing the loop.</summary>
public sealed class KafkaCommitterTests : IDisposable
{
    private static readonly TopicPartition s_p0 = new("orders", 0);
    private static readonly TopicPartition s_p1 = new("orders", 1);

    private readonly RecordingLogger _logger = new();
    private readonly List<IReadOnlyList<TopicPartitionOffset>> _commits = [];
    private readonly SemaphoreSlim _gate = new(0);
    private readonly KafkaCommitter _committer;
    private int _running;
    private int _mostAtOnce;

    /// <summary>What the next commit calls do: block on the gate (the default), or throw.</summary>
    private Func<Exception?> _outcome = () => null;

    public KafkaCommitterTests() => _committer = new KafkaCommitter(Commit, _logger);

    /// <summary>The consumer's blocking commit: waits until the test releases it (the coordinator answers).</summary>
    private void Commit(IReadOnlyList<TopicPartitionOffset> offsets)
    {
        var running = Interlocked.Increment(ref _running);
        InterlockedMax(ref _mostAtOnce, running);
        lock (_commits)
        {
            _commits.Add(offsets);
        }

        try
        {
            if (_outcome() is { } failure)
            {
                throw failure;
            }

            _gate.Wait(TimeSpan.FromSeconds(30));
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private int CommitCount
    {
        get
        {
            lock (_commits)
            {
                return _commits.Count;
            }
        }
    }

    private Dictionary<TopicPartition, long> CommitNumber(int index)
    {
        lock (_commits)
        {
            return _commits[index].ToDictionary(o => o.TopicPartition, o => o.Offset.Value);
        }
    }

    /// <summary>Calls Start as the loop does (every iteration) until the commit number <paramref name="count"/> was sent.</summary>
    private async Task StartUntilAsync(int count) =>
        await Eventually.TrueAsync(() =>
        {
            _committer.Start();
            return CommitCount >= count;
        }, $"commit {count}");

    public void Dispose()
    {
        _gate.Release(100);
        _gate.Dispose();
    }

    [Fact]
    public void Nothing_due_sends_nothing()
    {
        _committer.Start();

        Assert.Equal(0, CommitCount);
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task Offsets_due_while_a_commit_runs_are_coalesced_into_one_next_commit_with_the_latest_offset_per_partition()
    {
        _committer.Due(s_p0, 10);
        await StartUntilAsync(1);

        _committer.Due(s_p0, 11);
        _committer.Due(s_p1, 5);
        _committer.Due(s_p0, 12);
        _committer.Start();
        _committer.Start();
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Equal(1, CommitCount);
        Assert.Equal(2, _committer.DueCount);

        _gate.Release();
        await StartUntilAsync(2);

        Assert.Equal(new Dictionary<TopicPartition, long> { [s_p0] = 10 }, CommitNumber(0));
        Assert.Equal(new Dictionary<TopicPartition, long> { [s_p0] = 12, [s_p1] = 5 }, CommitNumber(1));
        Assert.Equal(0, _committer.DueCount);
        Assert.Equal(1, _mostAtOnce);
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task A_forgotten_partitions_offsets_are_not_committed()
    {
        _committer.Due(s_p0, 10);
        _committer.Due(s_p1, 20);

        _committer.Forget(s_p0);
        await StartUntilAsync(1);

        Assert.Equal(new Dictionary<TopicPartition, long> { [s_p1] = 20 }, CommitNumber(0));
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task A_failed_kafka_commit_is_logged_not_thrown_and_the_next_commit_goes_out()
    {
        var failures = 1;
        _outcome = () => Interlocked.Decrement(ref failures) >= 0 ? new KafkaException(ErrorCode.Local_Transport) : null;
        _committer.Due(s_p0, 10);
        await StartUntilAsync(1);
        await Eventually.TrueAsync(() => !_logger.Entries.IsEmpty, "the failure logged");

        var entry = Assert.Single(_logger.Entries);
        Assert.Equal(LogLevel.Debug, entry.Level);
        Assert.Equal(1007, entry.Id.Id);

        _committer.Due(s_p0, 11);
        await StartUntilAsync(2);
        Assert.Equal(new Dictionary<TopicPartition, long> { [s_p0] = 11 }, CommitNumber(1));
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task A_commit_on_a_disposed_consumer_is_ignored()
    {
        _outcome = () => new ObjectDisposedException("consumer");
        _committer.Due(s_p0, 10);
        await StartUntilAsync(1);

        await _committer.FlushAsync(() => TimeSpan.FromSeconds(5));

        Assert.Empty(_logger.Entries);
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task Flush_waits_for_the_running_commit_and_sends_what_became_due_meanwhile()
    {
        _committer.Due(s_p0, 10);
        await StartUntilAsync(1);
        _committer.Due(s_p0, 11);

        var flush = _committer.FlushAsync(() => TimeSpan.FromSeconds(10));
        Assert.False(flush.IsCompleted);
        _gate.Release();
        await Eventually.TrueAsync(() => CommitCount == 2, "the flush's second commit");
        Assert.Equal(new Dictionary<TopicPartition, long> { [s_p0] = 11 }, CommitNumber(1));
        Assert.False(flush.IsCompleted);
        _gate.Release();
        await flush;

        Assert.Equal(0, _committer.DueCount);
        Assert.Equal(1, _mostAtOnce);
    }

    [Fact(Timeout = Eventually.TestTimeoutMs)]
    public async Task Flush_gives_up_on_a_commit_that_does_not_answer_within_the_timeout()
    {
        _committer.Due(s_p0, 10);
        await StartUntilAsync(1);

        // The coordinator is away: the commit blocks; the flush must not wait for it beyond its timeout (twice).
        var flush = _committer.FlushAsync(() => TimeSpan.FromMilliseconds(100));

        await flush.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(1, CommitCount);
    }
}
