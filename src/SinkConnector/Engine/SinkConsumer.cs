using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Failures;
using SinkConnector.Mapping;
using SinkConnector.Observability;
using SinkConnector.Offsets;
using SinkConnector.Schema;
using SinkConnector.Writing;

namespace SinkConnector.Engine;

/// <summary>
/// The exactly-once consumer loop (docs/exactly-once.md), top to bottom:
/// 1. assign: claim partitions in Postgres (epoch + 1) and seek to the stored offsets;
/// 2. batch: collect messages; the write task converts them and commits rows, dead letters and fenced offset
///    updates in one transaction; a batch may start writing while the one before it commits (BatchWriter);
/// 3. skipped messages advance the offset like written ones;
/// 4. revoke: finish the in-flight commit, drop the rest; lost: drop everything, never commit;
/// 5. Kafka commits only after the database commit, best effort;
/// 6. shutdown: stop fetching, commit the current batch, leave the group within the grace period.
/// One thread polls; one or two batches (not two with upserts) convert and commit in the background meanwhile,
/// each retrying transient failures itself. While Postgres is slow or away the loop pauses its partitions but keeps
/// polling, so the consumer stays in its group however long the outage lasts; claims that fail are retried the same way.
/// All fields are touched only by the polling thread (rebalance callbacks run inside Consume on it).
/// </summary>
public sealed class SinkConsumer : IDisposable
{
    private static readonly TimeSpan s_maxPoll = TimeSpan.FromMilliseconds(100);

    // An idle partition never commits, so it would never notice an operator reset; its claim is checked instead.
    private static readonly TimeSpan s_claimCheckInterval = TimeSpan.FromSeconds(3);

    // How long a due batch waits for the previous commit before the loop pauses fetching and polls meanwhile.
    // Long enough that an ordinary slow commit does not pause (a pause drops librdkafka's prefetched messages).
    private static readonly TimeSpan s_backpressureWait = TimeSpan.FromSeconds(1);

    // A partition with messages to fetch that delivered none for this long is sought again (OwnedPartition.IsStalled).
    private static readonly TimeSpan s_stallTimeout = TimeSpan.FromSeconds(15);

    // After a failure (no SIGTERM, so no hard deadline), leaving the group gets shutdown_grace, but at least this.
    private static readonly TimeSpan s_minimumLeaveTime = TimeSpan.FromSeconds(5);

    // The orderly shutdown ends this long before shutdown_grace (at most a quarter of it), when sink run's hard
    // deadline ends the process: time to exit on its own, with exit code 0.
    private static readonly TimeSpan s_exitReserve = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan s_watermarkInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromSeconds(10);

    // Silence while the group forms is normal for a few seconds; longer, the log says what the sink waits for.
    private static readonly TimeSpan s_assignmentWaitNotice = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_assignmentWaitRepeat = TimeSpan.FromSeconds(30);

    private readonly SinkConfig _config;
    private readonly OffsetStore _offsets;
    private readonly BatchWriter _writer;
    private readonly ILogger _logger;
    private readonly SinkMetrics _metrics;
    private readonly SinkHealth _health;
    private readonly BatchConverter _converter;
    private readonly Dictionary<TopicPartition, OwnedPartition> _owned = [];
    private readonly IConsumer<byte[]?, byte[]?> _consumer;
    private readonly List<TopicPartition> _assignedSincePoll = [];

    // Assigned partitions without a current claim, paused: true = assigned by the group (claim it), false = fenced
    // (re-claim only if the newer claim is this process's own, else leave it to the group).
    private readonly Dictionary<TopicPartition, bool> _unclaimed = [];

    // Partitions paused after a foreign fence, since when. Normally the group revokes them soon; if it has not
    // after a session timeout, the foreign claim was a stale one (a claim that reached Postgres after its owner
    // had been expelled) and the group still means them for us: they are claimed again (eng/model, FIX_STALL).
    private readonly Dictionary<TopicPartition, DateTime> _foreign = [];
    private readonly TimeSpan _foreignClaimTimeout;
    private readonly CancellationTokenSource _abandonWrites = new();

    private WriteBatch _batch = new();

    // The oldest write still to be finished, and the one started after it (BatchWriter orders their commits).
    private InFlight? _inFlight;
    private InFlight? _nextInFlight;
    private long _writesStarted;

    // Topics of mode upsert: two batches that both hold upserts never overlap. The later one's DELETE does not see
    // (and so misses) a row the earlier one inserted but has not committed: a tombstone would be lost (found by
    // WriteModeTests.Several_mappings...). Their merges of the same keys would also deadlock.
    private readonly HashSet<string> _upsertTopics;
    private Task? _kafkaCommit;
    private readonly Dictionary<TopicPartition, long> _kafkaCommitsDue = [];
    private bool _backpressure;
    private Error? _fatal;
    private bool _leaveAbandoned;
    private DateTime _lastClaimCheck = DateTime.UtcNow;
    private DateTime _nextClaimRetry;
    private int _claimFailures;
    private DateTime _lastWatermarks;
    private DateTime _lastProgress = DateTime.UtcNow;
    private long _rowsSinceProgress;

    // Since when the consumer has been waiting for the group to assign it partitions (null: it has an assignment).
    private DateTime? _waitingSince;
    private DateTime _nextWaitNotice;

    // librdkafka repeats client errors for as long as their cause lasts (a broker down: every few dozen ms).
    private readonly RepeatedMessages _kafkaErrors = new(TimeSpan.FromSeconds(30));

    // Set by a claim that failed for a reason retrying cannot fix; the loop stops the sink with it.
    private string? _claimFailure;

    public SinkConsumer(SinkConfig config, SinkDatabase database, ILogger logger, string? owner = null, SinkMetrics? metrics = null, SinkHealth? health = null)
    {
        _config = config;
        _logger = logger;
        _metrics = metrics ?? new SinkMetrics();
        _health = health ?? new SinkHealth();
        _offsets = new OffsetStore(database, config.Connector.Kafka.GroupId, owner ?? DefaultOwner());
        _writer = new BatchWriter(database, _offsets);
        _converter = new BatchConverter(config.Mappings);
        _upsertTopics = [.. config.Mappings.Where(m => m.Mode == WriteMode.Upsert).SelectMany(m => m.Topics)];
        var consumerConfig = ConsumerSettings.Build(config.Connector);
        _foreignClaimTimeout = TimeSpan.FromMilliseconds(consumerConfig.SessionTimeoutMs ?? 45_000) + TimeSpan.FromSeconds(5);
        _consumer = new ConsumerBuilder<byte[]?, byte[]?>(consumerConfig)
            .SetPartitionsAssignedHandler(OnAssigned)
            .SetPartitionsRevokedHandler(OnRevoked)
            .SetPartitionsLostHandler(OnLost)
            .SetErrorHandler((_, error) => OnError(error))
            .SetLogHandler((_, message) => OnLog(message))
            .Build();
    }

    /// <param name="Merges">Whether the batch has upsert partitions (<see cref="Batch"/> belongs to the write task until it is done).</param>
    private sealed record InFlight(Task<WriteResult> Task, WriteBatch Batch, bool Merges, Stopwatch Elapsed);

    /// <summary>Runs until <paramref name="stopping"/> fires, then shuts down within <c>shutdown_grace</c>.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        var topics = _converter.Topics.Order(StringComparer.Ordinal).ToList();
        _consumer.Subscribe(topics);
        Log.Subscribed(_logger, string.Join(", ", topics), _config.Connector.Kafka.GroupId, _offsets.Owner);
        WaitForAssignment();

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
            await _abandonWrites.CancelAsync();
            await LeaveGroupAsync(_config.Connector.ShutdownGrace > s_minimumLeaveTime ? _config.Connector.ShutdownGrace : s_minimumLeaveTime);
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

            var result = Poll();
            // One clock read per iteration for everything below: the loop runs once per message.
            var now = DateTime.UtcNow;
            if (result is not null)
            {
                Accept(result, now);
            }

            while (_inFlight?.Task.IsCompleted == true)
            {
                await FinishInFlightAsync(stopping);
            }

            if (_backpressure && _inFlight is null)
            {
                // The slow commit is done. Not only when the next batch is due: a rebalance may have emptied that
                // batch, and partitions kept paused would never fill it again (found by the chaos soak, seed 2).
                SetBackpressure(false);
            }

            if (BatchIsDue(now))
            {
                if (!await MakeRoomForWriteAsync(stopping))
                {
                    // Postgres is slow or away: stop fetching, but keep polling to stay in the group.
                    SetBackpressure(true);
                    continue;
                }

                StartWrite();
                SetBackpressure(false);
            }
            else if (_inFlight is null)
            {
                await MaintainClaimsAsync(now, stopping);
            }

            StartKafkaCommit();
            ReportProgress(now);
        }
    }

    private ConsumeResult<byte[]?, byte[]?>? Poll()
    {
        if (_fatal is not null)
        {
            throw new KafkaException(_fatal);
        }

        PauseOrResumeAssigned();
        _health.Polled();
        try
        {
            return _consumer.Consume(PollTimeout());
        }
        catch (ConsumeException e) when (!e.Error.IsFatal)
        {
            LogKafkaError(e.Error.ToString());
            return null;
        }
    }

    private TimeSpan PollTimeout()
    {
        if (_batch.IsEmpty)
        {
            return s_maxPoll;
        }

        var left = _batch.StartedAt + _config.Connector.Batch.MaxLatency - DateTime.UtcNow;
        return left < TimeSpan.Zero ? TimeSpan.Zero : left < s_maxPoll ? left : s_maxPoll;
    }

    // ---- Step 1: assign ------------------------------------------------------------------------------

    private IEnumerable<TopicPartitionOffset> OnAssigned(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> partitions)
    {
        _health.Joined();
        _waitingSince = null;
        if (partitions.Count == 0)
        {
            return [];
        }

        _metrics.Rebalanced("assigned");
        _assignedSincePoll.AddRange(partitions);
        IReadOnlyList<PartitionClaim> claims;
        try
        {
            // The offsets returned here are where fetching starts, so the claim has to be complete before returning.
            claims = _offsets.Claim(partitions);
            _health.DatabaseAnswered();
        }
        catch (Exception e)
        {
            if (IsTransient(e))
            {
                _health.DatabaseFailed();
                _metrics.Retried("claim");
                Log.ClaimDeferred(_logger, string.Join(", ", partitions), e.Message);
            }
            else
            {
                // The schema is missing, a privilege too, or the server is read-only. The exception must not leave
                // this callback: librdkafka would stay mid-rebalance, and closing the consumer would hang. The
                // partitions are parked like a deferred claim, and the loop stops the sink with the reason.
                _claimFailure ??= ClaimFailure(e);
                Log.ClaimFailed(_logger, string.Join(", ", partitions), _claimFailure);
            }

            // Without a claim there is no offset to start from: park the partitions (paused, and every message of
            // theirs ignored) until the loop manages to claim them and seeks. They wait where a partition without a
            // stored offset starts, so a seek that librdkafka loses to this logical offset errs backwards (ignored
            // messages) or is caught as a gap (OwnedPartition), never skips.
            foreach (var partition in partitions)
            {
                _unclaimed[partition] = true;
            }

            return partitions.Select(p => new TopicPartitionOffset(p, ConsumerSettings.InitialOffset(_config.Connector))).ToList();
        }

        // Materialized: Confluent.Kafka enumerates the result more than once.
        return claims.Select(Own).ToList();
    }

    private TopicPartitionOffset Own(PartitionClaim claim)
    {
        _unclaimed.Remove(claim.Partition);
        _foreign.Remove(claim.Partition);
        var owned = new OwnedPartition(claim.Epoch, claim.NextOffset, DateTime.UtcNow);
        _owned[claim.Partition] = owned;
        _metrics.Claimed(claim.Partition, claim.NextOffset);
        var start = StartOffset(owned);
        Log.Claimed(_logger, claim.Partition, claim.Epoch, Describe(start));
        return new TopicPartitionOffset(claim.Partition, start);
    }

    /// <summary>
    /// Partitions assigned since the last poll fetch unless they are unclaimed or the loop is holding back; one paused
    /// after a foreign fence and assigned again must be resumed explicitly.
    /// </summary>
    private void PauseOrResumeAssigned()
    {
        if (_assignedSincePoll.Count == 0)
        {
            return;
        }

        var hold = _assignedSincePoll.Where(p => _backpressure || _unclaimed.ContainsKey(p)).ToList();
        _consumer.Pause(hold);
        _consumer.Resume(_assignedSincePoll.Except(hold).ToList());
        _assignedSincePoll.Clear();
    }

    private void SetBackpressure(bool on)
    {
        if (_backpressure != on)
        {
            _backpressure = on;
            var owned = _owned.Keys.ToList();
            if (on)
            {
                _consumer.Pause(owned);
                Log.Backpressure(_logger, owned.Count);
            }
            else
            {
                // A pause drops prefetched messages; a resume fetches again from the last one consumed.
                _consumer.Resume(owned);
                foreach (var partition in _owned.Values)
                {
                    partition.Repositioned(DateTime.UtcNow);
                }

                Log.BackpressureEnded(_logger);
            }
        }
    }

    private static async Task<bool> CompletesWithinAsync(Task task, TimeSpan timeout, CancellationToken stopping)
    {
        await Task.WhenAny(task, Task.Delay(timeout, stopping)).ConfigureAwait(false);
        return task.IsCompleted;
    }

    // ---- Step 2 and 3: batch ------------------------------------------------------------------------

    private void Accept(ConsumeResult<byte[]?, byte[]?> result, DateTime now)
    {
        var partition = result.TopicPartition;
        if (!_owned.TryGetValue(partition, out var owned))
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

        // Converted on the thread pool (BatchConverter); skipped and dead-lettered messages advance the offset too (invariant 3).
        var slice = _batch.Slice(partition, owned.Epoch, owned.NextOffset);
        var bytes = RowSize.EstimateBytes(result);
        _converter.Add(_batch, slice, result, bytes);
        owned.Advance(result.Offset.Value, now);
        slice.NextOffset = result.Offset.Value + 1;
        _batch.Count(slice, bytes);
    }

    /// <summary>Moves the fetch position to the next offset this process owes the database.</summary>
    private void Seek(TopicPartition partition, OwnedPartition owned)
    {
        owned.Repositioned(DateTime.UtcNow);
        var start = StartOffset(owned);
        try
        {
            _consumer.Seek(new TopicPartitionOffset(partition, start));
        }
        catch (KafkaException e)
        {
            // The partition is not fetchable right now; the stall check tries again.
            LogKafkaError($"seek {partition} to {Describe(start)}: {e.Error}");
        }
    }

    private Offset StartOffset(OwnedPartition owned) =>
        owned.NextOffset is { } next ? new Offset(next) : ConsumerSettings.InitialOffset(_config.Connector);

    private bool BatchIsDue(DateTime now)
    {
        var limits = _config.Connector.Batch;
        return !_batch.IsEmpty && (_batch.Messages >= limits.MaxRows || _batch.Bytes >= limits.MaxBytes
            || now - _batch.StartedAt >= limits.MaxLatency);
    }

    /// <summary>
    /// Finishes in-flight writes until the due batch may start: two writes at a time at most, never two with upserts.
    /// False when the oldest write did not finish within the backpressure wait.
    /// </summary>
    private async Task<bool> MakeRoomForWriteAsync(CancellationToken stopping)
    {
        // A loop: the write that becomes the oldest may itself hold upserts.
        while (_nextInFlight is not null || (_inFlight is { Merges: true } && Merges(_batch)))
        {
            if (!await CompletesWithinAsync(_inFlight!.Task, s_backpressureWait, stopping))
            {
                return false;
            }

            await FinishInFlightAsync(stopping);
        }

        return true;
    }

    private bool Merges(WriteBatch batch) => _upsertTopics.Count > 0 && batch.Partitions.Keys.Any(p => _upsertTopics.Contains(p.Topic));

    private void StartWrite()
    {
        var batch = _batch;
        _batch = new WriteBatch();
        foreach (var slice in batch.Partitions.Values)
        {
            _metrics.Consumed(slice.Partition.Topic, slice.Messages);
        }

        var sequence = _writesStarted++;
        Task? predecessor = _inFlight?.Task;
        var write = new InFlight(Task.Run(async () =>
        {
            await _converter.CompleteAsync(batch);
            return await WriteWithRetriesAsync(batch, sequence, predecessor, _abandonWrites.Token);
        }), batch, Merges(batch), Stopwatch.StartNew());
        if (_inFlight is null)
        {
            _inFlight = write;
        }
        else
        {
            _nextInFlight = write;
        }
    }

    /// <summary>
    /// Writes the batch, retrying transient failures with exponential backoff and jitter until it commits or the
    /// sink gives up on it at shutdown. Retrying is safe even when a failed attempt did commit (the reply was lost):
    /// the offsets no longer match, the retry is fenced, and the partitions are re-claimed from what is stored.
    /// </summary>
    private async Task<WriteResult> WriteWithRetriesAsync(WriteBatch batch, long sequence, Task? predecessor, CancellationToken abandon)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = await _writer.WriteAsync(batch, sequence, predecessor, CancellationToken.None);
                _health.DatabaseAnswered();
                return result;
            }
            catch (Exception e) when (IsTransient(e) && !abandon.IsCancellationRequested)
            {
                _health.DatabaseFailed();
                _metrics.Retried("write");
                var delay = Backoff(attempt);
                Log.WriteRetry(_logger, (long)delay.TotalMilliseconds, attempt, e.Message);
                await Task.Delay(delay, abandon);
            }
        }
    }

    /// <summary>Takes the oldest in-flight batch's result: fences, dead letters rejected at write time, the Kafka commit.</summary>
    private async Task FinishInFlightAsync(CancellationToken stopping)
    {
        if (_inFlight is not { } inFlight)
        {
            return;
        }

        var result = await inFlight.Task;
        _inFlight = _nextInFlight;
        _nextInFlight = null;
        foreach (var deadLetter in result.DeadLetters)
        {
            Log.DeadLettered(_logger, new TopicPartition(deadLetter.Topic, deadLetter.Partition), deadLetter.Offset, deadLetter.Mapping, deadLetter.ErrorMessage);
            _metrics.DeadLettered(deadLetter.Mapping, deadLetter.ErrorKind);
        }

        if (result.Committed.Count > 0)
        {
            _metrics.BatchCommitted(inFlight.Elapsed.Elapsed);
            _metrics.RowsWritten(result.Rows);
            _rowsSinceProgress += result.Rows;
            foreach (var slice in result.Committed)
            {
                _metrics.Committed(slice.Partition, slice.NextOffset);
            }
        }

        Log.BatchCommitted(_logger, inFlight.Batch.Messages, result.Rows, result.Committed.Count, inFlight.Elapsed.ElapsedMilliseconds);
        // A partition re-claimed since this batch was consumed (the write before it was fenced) has a newer claim
        // that this fence says nothing about.
        await HandleFencedAsync([.. result.Fenced.Where(s => _owned.TryGetValue(s.Partition, out var owned) && owned.Epoch == s.Epoch).Select(s => s.Partition)], stopping);
        CommitToKafka(result.Committed);
    }

    /// <summary>Failures that pass: the same statement can succeed later, so the batch is retried, never dropped.</summary>
    public static bool IsTransient(Exception e) => e switch
    {
        PostgresException p => p.IsTransient || p.SqlState is "40001" or "40P01" or "57P01" or "57P02" or "57P03" or "53300" or "57014"
            || p.SqlState.StartsWith("08", StringComparison.Ordinal),
        NpgsqlException n => n.IsTransient || n.InnerException is IOException or System.Net.Sockets.SocketException or TimeoutException,
        TimeoutException => true,
        _ => e.InnerException is { } inner && IsTransient(inner),
    };

    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(10_000, 100 * Math.Pow(2, Math.Min(attempt, 20) - 1)) * (0.5 + Random.Shared.NextDouble() / 2));

    // ---- Fencing ------------------------------------------------------------------------------------

    /// <summary>
    /// A fenced partition stops being consumed. If the newer claim is this process's own (an operator reset),
    /// it is claimed again and consumption restarts where the database now says; otherwise another consumer
    /// owns it and it stays paused until the group takes it away from us (or assigns it again).
    /// </summary>
    private async Task HandleFencedAsync(IReadOnlyList<TopicPartition> fenced, CancellationToken stopping)
    {
        var ours = fenced.Where(_owned.ContainsKey).ToList();
        if (ours.Count == 0)
        {
            return;
        }

        _consumer.Pause(ours);
        foreach (var partition in ours)
        {
            Log.Fenced(_logger, partition);
            _metrics.Fenced(partition);
            _owned.Remove(partition);
            _batch.Remove(partition);
            _unclaimed[partition] = false;
        }

        await RetryClaimsAsync(stopping);
    }

    /// <summary>The idle-time duties: claims that failed before are retried; current claims are checked.</summary>
    private async Task MaintainClaimsAsync(DateTime now, CancellationToken stopping)
    {
        // Runs between messages whenever no write is in flight: no allocation unless there is something to do.
        foreach (var (partition, since) in _foreign.Count == 0 ? [] : _foreign.Where(f => now - f.Value > _foreignClaimTimeout).ToList())
        {
            // Still assigned to us a session timeout later (a revoke or loss would have released it): claim it.
            _foreign.Remove(partition);
            _unclaimed[partition] = true;
            Log.StaleForeignClaim(_logger, partition, (long)(now - since).TotalSeconds);
        }

        if (_unclaimed.Count > 0 && now >= _nextClaimRetry)
        {
            await RetryClaimsAsync(stopping);
        }
        else if (now - _lastClaimCheck > s_claimCheckInterval)
        {
            await CheckClaimsAsync(stopping);
        }
    }

    private async Task RetryClaimsAsync(CancellationToken stopping)
    {
        var assigned = _unclaimed.Where(u => u.Value).Select(u => u.Key).ToList();
        var fenced = _unclaimed.Where(u => !u.Value).Select(u => u.Key).ToList();
        List<PartitionClaim> claims;
        try
        {
            claims = [.. assigned.Count > 0 ? await _offsets.ClaimAsync(assigned, stopping) : []];
            claims.AddRange(fenced.Count > 0 ? await _offsets.ReclaimOwnAsync(fenced, stopping) : []);
        }
        catch (Exception e) when (IsTransient(e))
        {
            _health.DatabaseFailed();
            _metrics.Retried("claim");
            _claimFailures++;
            var delay = Backoff(_claimFailures);
            _nextClaimRetry = DateTime.UtcNow + delay;
            Log.ClaimRetry(_logger, _unclaimed.Count, (long)delay.TotalMilliseconds, e.Message);
            return;
        }
        catch (Exception e) when (!stopping.IsCancellationRequested && ConnectorSchema.Explain(e, _config) is { } reason)
        {
            throw new SinkStoppedException(ClaimFailure(e, reason));
        }

        _claimFailures = 0;
        _health.DatabaseAnswered();
        foreach (var claim in claims)
        {
            // Seek while paused, then fetch: nothing fetched from the old position can reach the batch.
            Own(claim);
            Seek(claim.Partition, _owned[claim.Partition]);
            if (!_backpressure)
            {
                _consumer.Resume([claim.Partition]);
            }
        }

        foreach (var partition in fenced.Except(claims.Select(c => c.Partition)))
        {
            _unclaimed.Remove(partition);
            _foreign[partition] = DateTime.UtcNow;
            Log.PausedForeignClaim(_logger, partition);
        }
    }

    private async Task CheckClaimsAsync(CancellationToken stopping)
    {
        _lastClaimCheck = DateTime.UtcNow;

        // Also with nothing owned: the check is what tells readiness that Postgres answers (again) while no
        // message arrives.
        IReadOnlyList<TopicPartition> fenced;
        try
        {
            fenced = await _offsets.FindFencedAsync([.. _owned.Select(o => (o.Key, o.Value.Epoch))], stopping);
        }
        catch (Exception e) when (IsTransient(e))
        {
            _health.DatabaseFailed();
            // Checked again next time; a commit in between would find a fence by itself.
            Log.ClaimCheckFailed(_logger, e.Message);
            return;
        }
        catch (Exception e) when (!stopping.IsCancellationRequested && ConnectorSchema.Explain(e, _config) is { } reason)
        {
            throw new SinkStoppedException(ClaimFailure(e, reason));
        }

        _health.DatabaseAnswered();
        await HandleFencedAsync(fenced, stopping);
    }

    // ---- Step 4: revoke and lost --------------------------------------------------------------------

    private void OnRevoked(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        // The next owner claims these partitions once this callback returns. Let the in-flight commits finish
        // first so they do not needlessly get fenced; the callback is synchronous, hence the blocking wait.
        // Their results are handled by the loop afterwards.
        try
        {
            Task.WaitAll([.. InFlightWrites()], _config.Connector.ShutdownGrace);
        }
        catch (AggregateException)
        {
            // A failed commit is retried by the loop; for these partitions it no longer matters.
        }

        Release(partitions);
        _metrics.Rebalanced("revoked");
        Log.Revoked(_logger, string.Join(", ", partitions.Select(p => p.TopicPartition)));
    }

    private void OnLost(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        // Another consumer may already own these: never commit for them again. A commit already sent is
        // harmless: it either lands before the new owner's claim, or is fenced by it.
        Release(partitions);
        // Lost: the group expelled this consumer, which joins again and waits for a new assignment.
        WaitForAssignment();
        _metrics.Rebalanced("lost");
        Log.Lost(_logger, string.Join(", ", partitions.Select(p => p.TopicPartition)));
    }

    private void Release(List<TopicPartitionOffset> partitions)
    {
        foreach (var partition in partitions)
        {
            _owned.Remove(partition.TopicPartition);
            _unclaimed.Remove(partition.TopicPartition);
            _foreign.Remove(partition.TopicPartition);
            _kafkaCommitsDue.Remove(partition.TopicPartition);
            _batch.Remove(partition.TopicPartition);
            _metrics.Released(partition.TopicPartition);
        }
    }

    // ---- Step 5: Kafka commit -----------------------------------------------------------------------

    private void CommitToKafka(IReadOnlyList<PartitionSlice> committed)
    {
        foreach (var slice in committed.Where(s => _owned.ContainsKey(s.Partition)))
        {
            _kafkaCommitsDue[slice.Partition] = slice.NextOffset;
        }

        StartKafkaCommit();
    }

    /// <summary>
    /// Commit blocks until the group coordinator answers (up to the session timeout while it is away), so it runs
    /// beside the loop, one at a time; what is due meanwhile goes with the next one, which the loop starts as soon as
    /// this one is done (the last batch before the topic goes quiet must reach lag tools too).
    /// </summary>
    private void StartKafkaCommit()
    {
        if (_kafkaCommitsDue.Count == 0 || _kafkaCommit?.IsCompleted == false)
        {
            return;
        }

        var offsets = _kafkaCommitsDue.Select(d => new TopicPartitionOffset(d.Key, new Offset(d.Value))).ToList();
        _kafkaCommitsDue.Clear();
        _kafkaCommit = Task.Run(() =>
        {
            try
            {
                _consumer.Commit(offsets);
            }
            catch (KafkaException e)
            {
                Log.KafkaCommitFailed(_logger, e.Error.ToString());
            }
            catch (ObjectDisposedException)
            {
                // Shut down meanwhile: nothing to do, Postgres has the offsets.
            }
        });
    }

    // ---- Observability -------------------------------------------------------------------------------

    /// <summary>
    /// Refreshes the lag gauges from librdkafka's cached high watermarks (no broker round trip), seeks partitions
    /// whose fetching is stuck, and logs a progress line while there is work: rows/s, lag and the time to catch up at that rate.
    /// </summary>
    private void ReportProgress(DateTime now)
    {
        if (_waitingSince is { } waiting && now >= _nextWaitNotice)
        {
            _nextWaitNotice = now + s_assignmentWaitRepeat;
            Log.WaitingForAssignment(_logger, _config.Connector.Kafka.GroupId, (long)(now - waiting).TotalSeconds);
        }

        if (now - _lastWatermarks >= s_watermarkInterval)
        {
            _lastWatermarks = now;
            foreach (var (text, repeats) in _kafkaErrors.TakeSummaries(now))
            {
                Log.KafkaErrorRepeated(_logger, repeats, (long)_kafkaErrors.Window.TotalSeconds, text);
            }

            foreach (var (partition, owned) in _owned)
            {
                var high = _consumer.GetWatermarkOffsets(partition).High;
                long? known = high == Offset.Unset ? null : high.Value;
                if (known is { } value)
                {
                    _metrics.Watermark(partition, value);
                }

                if (!_backpressure && owned.IsStalled(known, now, s_stallTimeout))
                {
                    Log.Stalled(_logger, partition, owned.NextOffset ?? -1, high.Value, (long)s_stallTimeout.TotalSeconds);
                    Seek(partition, owned);
                    _consumer.Resume([partition]);
                }
            }
        }

        var elapsed = now - _lastProgress;
        if (elapsed < s_progressInterval)
        {
            return;
        }

        var lag = _metrics.TotalLag();
        if (_rowsSinceProgress > 0 || lag > 0)
        {
            var rate = _rowsSinceProgress / elapsed.TotalSeconds;
            var eta = rate > 0 ? TimeSpan.FromSeconds(Math.Min(lag / rate, TimeSpan.MaxValue.TotalSeconds / 2)).ToString(@"d\.hh\:mm\:ss", System.Globalization.CultureInfo.InvariantCulture) : "unknown";
            Log.Progress(_logger, (long)rate, lag, eta, _owned.Count);
        }

        _lastProgress = now;
        _rowsSinceProgress = 0;
    }

    // ---- Step 6: shutdown ---------------------------------------------------------------------------

    private async Task ShutdownAsync()
    {
        Log.Stopping(_logger, _config.Connector.ShutdownGrace.TotalSeconds);
        // sink run ends the process at shutdown_grace whatever happens; the orderly steps finish a moment before,
        // so that it exits on its own.
        var budget = _config.Connector.ShutdownGrace - TimeSpan.FromTicks(Math.Min(s_exitReserve.Ticks, _config.Connector.ShutdownGrace.Ticks / 4));
        var deadline = DateTime.UtcNow + budget;
        using var grace = new CancellationTokenSource(budget);
        try
        {
            await FinishWritesAsync(grace.Token);
            if (!_batch.IsEmpty)
            {
                StartWrite();
                await FinishWritesAsync(grace.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Whatever did not commit is still in Kafka and is re-consumed from the stored offsets.
            await _abandonWrites.CancelAsync();
            Log.GraceExceeded(_logger);
        }

        // A Kafka commit still waiting for the coordinator must not outlive the consumer it uses; offsets that
        // became due meanwhile go in one more.
        for (var round = 0; round < 2; round++)
        {
            StartKafkaCommit();
            await (_kafkaCommit ?? Task.CompletedTask).WaitAsync(Left(deadline, TimeSpan.FromSeconds(5))).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        // Leaving the group waits for the coordinator, which can be away for longer than the grace (seen in the
        // chaos soak). Postgres already has everything, so past the grace the process goes without a goodbye and
        // the group notices through the session timeout.
        if (await LeaveGroupAsync(Left(deadline, TimeSpan.MaxValue)))
        {
            Log.Stopped(_logger);
        }
    }

    /// <summary>The time until <paramref name="deadline"/>, at most <paramref name="cap"/>, never negative.</summary>
    private static TimeSpan Left(DateTime deadline, TimeSpan cap)
    {
        var left = deadline - DateTime.UtcNow;
        return left < TimeSpan.Zero ? TimeSpan.Zero : left < cap ? left : cap;
    }

    /// <summary>Closes the consumer (leaving the group) within <paramref name="timeout"/>; false if it did not.</summary>
    private async Task<bool> LeaveGroupAsync(TimeSpan timeout)
    {
        var leaving = Task.Run(_consumer.Close);
        await leaving.WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!leaving.IsCompletedSuccessfully)
        {
            _leaveAbandoned = true;
            Log.LeaveAbandoned(_logger, leaving.Exception?.InnerException?.Message ?? "timed out");
            return false;
        }

        _health.Left();
        return true;
    }

    private async Task FinishWritesAsync(CancellationToken grace)
    {
        while (_inFlight is not null)
        {
            await FinishInFlightAsync(grace).WaitAsync(grace);
        }
    }

    private IEnumerable<Task> InFlightWrites() => new[] { _inFlight?.Task, _nextInFlight?.Task }.OfType<Task>();

    private void OnError(Error error)
    {
        if (error.IsFatal)
        {
            _fatal = error;
        }

        LogKafkaError(error.ToString());
    }

    /// <summary>Warnings and errors as Kafka errors; the rest (librdkafka's <c>debug</c> output too) at Debug.</summary>
    private void OnLog(LogMessage message)
    {
        if (message.Level <= SyslogLevel.Warning)
        {
            LogKafkaError($"{message.Facility}: {message.Message}");
        }
        else
        {
            Log.KafkaLog(_logger, message.Facility, message.Message);
        }
    }

    /// <summary>The first of a series of equal errors; the repeats are counted and summarized (ReportProgress).</summary>
    private void LogKafkaError(string reason)
    {
        if (_kafkaErrors.Admit(reason, DateTime.UtcNow))
        {
            Log.KafkaError(_logger, reason);
        }
    }

    private void WaitForAssignment()
    {
        _waitingSince = DateTime.UtcNow;
        _nextWaitNotice = _waitingSince.Value + s_assignmentWaitNotice;
    }

    private string ClaimFailure(Exception e, string? reason = null) =>
        $"claiming partitions in {Sql.Table(_config.Connector.Postgres.Schema, "offsets")} failed: " +
        (reason ?? ConnectorSchema.Explain(e, _config) ?? e.Message);

    /// <summary>An offset as a log line says it: a number, or where a partition without a stored offset starts.</summary>
    private static string Describe(Offset offset) =>
        offset == Offset.Beginning ? "the beginning of the partition"
        : offset == Offset.End ? "the end of the partition"
        : "offset " + offset.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string DefaultOwner() => $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    public void Dispose()
    {
        _abandonWrites.Cancel();
        _abandonWrites.Dispose();
        // After an abandoned close, disposing would wait for it; the process is about to exit anyway.
        if (!_leaveAbandoned)
        {
            _consumer.Dispose();
        }
    }
}
