using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using SinkConnector.Configuration;
using SinkConnector.Failures;
using SinkConnector.Mapping;
using SinkConnector.Observability;
using SinkConnector.Offsets;
using SinkConnector.Schema;

namespace SinkConnector.Engine;

/// <summary>
/// The exactly-once consumer (docs/exactly-once.md), top to bottom:
/// 1. assign: claim partitions in Postgres (epoch + 1) and seek to the stored offsets (<see cref="PartitionClaims"/>);
/// 2. batch: collect messages; a write task commits the writer's rows, dead letters and fenced offset updates in one
///    transaction (<see cref="BatchTransaction"/>); a batch may start writing while the one before it commits (<see cref="WritePipeline"/>);
/// 3. skipped messages advance the offset like written ones;
/// 4. revoke: finish the in-flight commits, drop the rest; lost: drop everything, never commit;
/// 5. Kafka commits only after the database commit, best effort (<see cref="KafkaCommitter"/>);
/// 6. shutdown: stop fetching, commit the current batch, leave the group within the grace period.
/// One thread polls (<see cref="KafkaClient"/>); while Postgres is slow or away the loop pauses its partitions but keeps
/// polling, so the consumer stays in its group however long the outage lasts; claims that fail are retried the same way.
/// All state is touched only by the polling thread (rebalance callbacks run inside Poll on it).
/// </summary>
public sealed partial class ConsumerLoop : IRebalanceListener, IDisposable
{
    private static readonly TimeSpan s_maxPoll = TimeSpan.FromMilliseconds(100);

    // How long a due batch waits for the previous commit before the loop pauses fetching and polls meanwhile.
    // Long enough that an ordinary slow commit does not pause (a pause drops librdkafka's prefetched messages).
    private static readonly TimeSpan s_backpressureWait = TimeSpan.FromSeconds(1);

    private readonly ConnectorSettings _connector;
    private readonly BatchSettings _limits;
    private readonly IBatchWriter _writer;
    private readonly OffsetStore _offsets;
    private readonly ILogger _logger;
    private readonly SinkMetrics _metrics;
    private readonly SinkHealth _health;
    private readonly TimeProvider _time;
    private readonly KafkaClient _kafka;
    private readonly PartitionClaims _claims;
    private readonly WritePipeline _writes;
    private readonly KafkaCommitter _kafkaCommits;
    private readonly LoopReport _report;
    private readonly BackendsReport _backends;
    private readonly List<TopicPartition> _assignedSincePoll = [];
    private WriteBatch _batch;
    private bool _backpressure;

    // Set by a claim that failed for a reason retrying cannot fix; the loop stops the sink with it.
    private string? _claimFailure;

    /// <param name="connector">The consumer group, Kafka client settings, batch limits and grace period.</param>
    /// <param name="database">Where the offsets and dead letters are (<see cref="PostgresSettings.Schema"/>).</param>
    /// <param name="writer">What a batch's messages become inside its transaction.</param>
    public ConsumerLoop(ConnectorSettings connector, SinkDatabase database, IBatchWriter writer, ILogger logger,
        string? owner = null, SinkMetrics? metrics = null, SinkHealth? health = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(connector);
        _connector = connector;
        _limits = connector.Batch;
        _writer = writer;
        _logger = logger;
        _metrics = metrics ?? new SinkMetrics();
        _health = health ?? new SinkHealth();
        _time = time ?? TimeProvider.System;
        _offsets = new OffsetStore(database, connector.Kafka.GroupId, owner ?? DefaultOwner());
        _kafka = new KafkaClient(connector, this, logger, _time, writer.Topics.Any(t => t.StartsWith('^')));
        _claims = new PartitionClaims(_kafka.SessionTimeout + TimeSpan.FromSeconds(5));
        var transaction = new BatchTransaction(database, _offsets, writer);
        _writes = new WritePipeline(b => writer.PrepareAsync(b, CancellationToken.None), transaction.WriteAsync, WritesExclusively,
            _health, _metrics, logger, _time);
        _kafkaCommits = new KafkaCommitter(_kafka.Commit, logger);
        _report = new LoopReport(connector.Kafka.GroupId, _metrics, logger);
        _backends = new BackendsReport(database, logger);
        HungWriteTimeout = HungWriteTimeoutFor(database.StatementTimeout);
        _batch = NewBatch();
    }

    /// <summary>Runs until <paramref name="stopping"/> fires, then shuts down within <c>shutdown_grace</c>.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        _kafka.Subscribe(_writer.Topics);
        Log.Subscribed(_logger, string.Join(", ", _writer.Topics), _connector.Kafka.GroupId, _offsets.Owner);
        _report.WaitingForAssignment(Now());
        try
        {
            await ConsumeUntilStoppedAsync(stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping interrupted a retry or a claim check; the shutdown below finishes the work.
        }
        catch (Exception e)
        {
            // Nothing more is committed. The consumer still leaves the group, within the grace: disposing it without
            // closing it first can hang in librdkafka (mid-rebalance, for one), and the failure would never be reported.
            Log.Failed(_logger, e.Message);
            await _writes.AbandonAsync();
            await LeaveGroupAsync(Max(_connector.ShutdownGrace, s_minimumLeaveTime));
            throw;
        }

        await ShutdownAsync();
    }

    private async Task ConsumeUntilStoppedAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            if (_claimFailure is not null)
            {
                throw new SinkStoppedException(_claimFailure);
            }

            PauseOrResumeAssigned();
            _health.Polled();
            var result = _kafka.Poll(PollTimeout());
            // One clock read per iteration for everything below: the loop runs once per message.
            var now = Now();
            if (result is not null)
            {
                Accept(result, now);
            }

            while (_writes.OldestIsDone)
            {
                await FinishOldestWriteAsync(stopping);
            }

            await RecoverHungWritesAsync(stopping);

            if (_backpressure && _writes.IsEmpty)
            {
                // The slow commit is done. Not only when the next batch is due: a rebalance may have emptied that
                // batch, and partitions kept paused would never fill it again (found by the chaos soak, seed 2).
                SetBackpressure(false);
            }

            if (BatchIsDue(now) && !KeepsFilling(result))
            {
                if (!await MakeRoomForWriteAsync(stopping))
                {
                    // Postgres is slow or away: stop fetching, but keep polling to stay in the group. Still report:
                    // a write that never ends shows here first (the slow-write warning).
                    SetBackpressure(true);
                    ReportProgress(now);
                    continue;
                }

                StartWrite();
                SetBackpressure(false);
            }
            else if (_writes.IsEmpty)
            {
                await MaintainClaimsAsync(now, stopping);
            }

            _kafkaCommits.Start();
            ReportProgress(now);
            await RecoverStalledCommitsAsync(stopping);
        }
    }

    private TimeSpan PollTimeout()
    {
        if (_batch.IsEmpty)
        {
            return s_maxPoll;
        }

        var left = _batch.StartedAt + _limits.MaxLatency - Now();
        return left < TimeSpan.Zero ? TimeSpan.Zero : left < s_maxPoll ? left : s_maxPoll;
    }

    // ---- Step 2 and 3: batch ------------------------------------------------------------------------

    private void Accept(ConsumeResult<byte[]?, byte[]?> result, DateTime now)
    {
        var partition = result.TopicPartition;
        if (!_claims.TryGetOwned(partition, out var owned))
        {
            // Not (or no longer) ours: the database decides what comes next.
            return;
        }

        switch (owned.Classify(result.Offset.Value))
        {
            case FetchedMessage.Ignore:
                return;
            case FetchedMessage.Reseek:
                // Committing from here would skip the messages in between (see OwnedPartition).
                Log.GapAfterSeek(_logger, partition, owned.NextOffset ?? -1, result.Offset.Value);
                Seek(partition, owned);
                return;
        }

        // The writer's content prepares it in the background; skipped and dead-lettered messages advance the offset too (invariant 3).
        var slice = _batch.Slice(partition, owned.Epoch, owned.NextOffset);
        var bytes = RowSize.EstimateBytes(result);
        _batch.Content.Add(slice, result, bytes);
        owned.Advance(result.Offset.Value, now);
        slice.NextOffset = result.Offset.Value + 1;
        _batch.Count(slice, bytes);
    }

    /// <summary>
    /// A due batch that cannot start yet (the write before it is still running) keeps taking the messages that arrive,
    /// up to its limits, instead of waiting at the size <c>max_latency</c> left it: with exclusive writes (upserts,
    /// library mode) batches otherwise stayed at what one latency of polling brought in, so more transactions for the
    /// same messages, each with its fixed costs (library upsert: 6,900 messages a batch instead of 10,000, results/
    /// 2026-12-03-library-plumbing-broker.md). A poll that brings nothing waits for the write as before: no spinning.
    /// </summary>
    private bool KeepsFilling(ConsumeResult<byte[]?, byte[]?>? polled) => polled is not null && !BatchIsFull() && !_writes.HasRoomFor(_batch);

    private bool BatchIsFull() => _batch.Messages >= _limits.MaxRows || _batch.Bytes >= _limits.MaxBytes;

    private bool BatchIsDue(DateTime now) =>
        !_batch.IsEmpty && (_batch.Messages >= _limits.MaxRows || _batch.Bytes >= _limits.MaxBytes || now - _batch.StartedAt >= _limits.MaxLatency);

    /// <summary>Finishes in-flight writes until the due batch may start; false when the oldest did not finish within the backpressure wait.</summary>
    private async Task<bool> MakeRoomForWriteAsync(CancellationToken stopping)
    {
        // A loop: the write that becomes the oldest may itself write exclusively.
        while (!_writes.HasRoomFor(_batch))
        {
            if (!await _writes.OldestFinishesWithinAsync(s_backpressureWait, stopping))
            {
                return false;
            }

            await FinishOldestWriteAsync(stopping);
        }

        return true;
    }

    private void StartWrite()
    {
        foreach (var slice in _batch.Partitions.Values)
        {
            _metrics.Consumed(slice.Partition.Topic, slice.Messages);
        }

        _writes.Start(_batch);
        _batch = NewBatch();
    }

    /// <summary>Takes the oldest write's result: dead letters, metrics, fences, the Kafka commit.</summary>
    private async Task FinishOldestWriteAsync(CancellationToken stopping)
    {
        var (result, batch, elapsed) = await _writes.TakeOldestAsync();
        batch.Content.Release();
        _report.Committed(result, batch, elapsed);
        // A partition re-claimed since this batch was consumed (the write before it was fenced) has a newer claim
        // that this fence says nothing about.
        await HandleFencedAsync(_claims.Fence(result.Fenced.Select(s => (s.Partition, (long?)s.Epoch)), Now()), stopping);
        var now = Now();
        foreach (var slice in result.Committed)
        {
            if (_claims.TryGetOwned(slice.Partition, out var owned))
            {
                _kafkaCommits.Due(slice.Partition, slice.NextOffset);
                if (owned.Epoch == slice.Epoch)
                {
                    owned.CommittedUpTo(slice.NextOffset, now);
                }
            }
        }

        _kafkaCommits.Start();
    }

    private WriteBatch NewBatch() => new(_writer.NewContent(), _time);

    private bool WritesExclusively(WriteBatch batch) => batch.Partitions.Keys.Any(p => _writer.WritesExclusively(p.Topic));

    private void SetBackpressure(bool on)
    {
        if (_backpressure == on)
        {
            return;
        }

        _backpressure = on;
        var owned = _claims.Owned.Keys.ToList();
        if (on)
        {
            _kafka.Pause(owned);
            Log.Backpressure(_logger, owned.Count);
            return;
        }

        // A pause drops prefetched messages; a resume fetches again from the last one consumed.
        _kafka.Resume(owned);
        foreach (var partition in _claims.Owned.Values)
        {
            partition.Repositioned(Now());
        }

        Log.BackpressureEnded(_logger);
    }

    private void ReportProgress(DateTime now)
    {
        _report.Tick(now, _claims.Owned.Count);
        if (!_report.WatermarksDue(now))
        {
            return;
        }

        _kafka.ReportRepeatedErrors(now);
        // A write that neither commits nor fails (every database statement has a timeout) would otherwise only show
        // as "0 rows/s": say where it is.
        if (_writes.OldestRunning is { } slow && _report.SlowWriteDue(slow.Elapsed, now))
        {
            Log.WriteSlow(_logger, (long)slow.Elapsed.TotalSeconds, slow.Batch.Messages, slow.Batch.Partitions.Count, slow.Stage, _writes.Count);
        }

        CheckPartitions(now);
    }

    private DateTime Now() => _time.GetUtcNow().UtcDateTime;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static string DefaultOwner() => $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    public void Dispose()
    {
        _writes.Dispose();
        _kafka.Dispose();
    }
}
