using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.Postgres;

namespace SinkConnector.Consumer;

/// <summary>
/// The exactly-once consumer loop (DESIGN.md section 4), top to bottom:
/// 1. assign: claim partitions in Postgres (epoch + 1) and seek to the stored offsets;
/// 2. batch: convert messages, then commit rows, dead letters and fenced offset updates in one transaction;
/// 3. skipped messages advance the offset like written ones;
/// 4. revoke: finish the in-flight commit, drop the rest; lost: drop everything, never commit;
/// 5. Kafka commits only after the database commit, best effort;
/// 6. shutdown: stop fetching, commit the current batch, leave the group within the grace period.
/// One thread polls and converts; one batch at a time commits in the background meanwhile.
/// All fields are touched only by the polling thread (rebalance callbacks run inside Consume on it).
/// </summary>
public sealed class SinkConsumer : IDisposable
{
    private static readonly TimeSpan s_maxPoll = TimeSpan.FromMilliseconds(100);

    // An idle partition never commits, so it would never notice an operator reset; its claim is checked instead.
    private static readonly TimeSpan s_claimCheckInterval = TimeSpan.FromSeconds(3);

    private readonly SinkConfig _config;
    private readonly OffsetStore _offsets;
    private readonly BatchWriter _writer;
    private readonly ILogger _logger;
    private readonly Dictionary<string, TopicTarget> _targets = [];
    private readonly Dictionary<TopicPartition, OwnedPartition> _owned = [];
    private readonly IConsumer<byte[]?, byte[]?> _consumer;
    private readonly List<TopicPartition> _assignedSincePoll = [];

    private WriteBatch _batch = new();
    private InFlight? _inFlight;
    private Error? _fatal;
    private DateTime _lastClaimCheck = DateTime.UtcNow;

    public SinkConsumer(SinkConfig config, SinkDatabase database, ILogger logger, string? owner = null)
    {
        _config = config;
        _logger = logger;
        _offsets = new OffsetStore(database, config.Connector.Kafka.GroupId, owner ?? DefaultOwner());
        _writer = new BatchWriter(database, _offsets);
        foreach (var mapping in config.Mappings)
        {
            var converter = new MessageConverter(mapping);
            foreach (var topic in mapping.Topics)
            {
                _targets[topic] = new TopicTarget(mapping, converter);
            }
        }

        _consumer = new ConsumerBuilder<byte[]?, byte[]?>(ConsumerSettings.Build(config.Connector))
            .SetPartitionsAssignedHandler(OnAssigned)
            .SetPartitionsRevokedHandler(OnRevoked)
            .SetPartitionsLostHandler(OnLost)
            .SetErrorHandler((_, error) => OnError(error))
            .SetLogHandler((_, message) => OnLog(message))
            .Build();
    }

    private sealed record TopicTarget(MappingConfig Mapping, MessageConverter Converter);

    /// <summary>This process's claim on a partition; <see cref="NextOffset"/> runs ahead of the database by the uncommitted batches.</summary>
    private sealed class OwnedPartition(long epoch, long? nextOffset)
    {
        public long Epoch { get; } = epoch;

        public long? NextOffset { get; set; } = nextOffset;
    }

    private sealed record InFlight(Task<WriteResult> Task, WriteBatch Batch, Stopwatch Elapsed);

    /// <summary>Runs until <paramref name="stopping"/> fires, then shuts down within <c>shutdown_grace</c>.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        var topics = _targets.Keys.Order(StringComparer.Ordinal).ToList();
        _consumer.Subscribe(topics);
        Log.Subscribed(_logger, string.Join(", ", topics), _config.Connector.Kafka.GroupId, _offsets.Owner);

        try
        {
            await ConsumeUntilStoppedAsync(stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping interrupted a retry or a claim check; the shutdown below finishes the work.
        }

        await ShutdownAsync();
    }

    private async Task ConsumeUntilStoppedAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var result = Poll();
            if (result is not null)
            {
                Accept(result);
            }

            if (BatchIsDue())
            {
                await FinishInFlightAsync(stopping);
                StartWrite();
            }
            else if (_inFlight?.Task.IsCompleted == true)
            {
                await FinishInFlightAsync(stopping);
            }
            else if (_inFlight is null && DateTime.UtcNow - _lastClaimCheck > s_claimCheckInterval)
            {
                await CheckClaimsAsync(stopping);
            }
        }
    }

    private ConsumeResult<byte[]?, byte[]?>? Poll()
    {
        if (_fatal is not null)
        {
            throw new KafkaException(_fatal);
        }

        ResumeReassigned();
        try
        {
            return _consumer.Consume(PollTimeout());
        }
        catch (ConsumeException e) when (!e.Error.IsFatal)
        {
            Log.KafkaError(_logger, e.Error.ToString());
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
        if (partitions.Count == 0)
        {
            return [];
        }

        // The offsets returned here are where fetching starts, so the claim has to be complete before returning.
        var claims = _offsets.Claim(partitions);
        _assignedSincePoll.AddRange(partitions);
        // Materialized: Confluent.Kafka enumerates the result more than once.
        return claims.Select(Own).ToList();
    }

    private TopicPartitionOffset Own(PartitionClaim claim)
    {
        _owned[claim.Partition] = new OwnedPartition(claim.Epoch, claim.NextOffset);
        var start = claim.NextOffset is { } next ? new Offset(next) : ConsumerSettings.InitialOffset(_config.Connector);
        Log.Claimed(_logger, claim.Partition, claim.Epoch, start.ToString());
        return new TopicPartitionOffset(claim.Partition, start);
    }

    /// <summary>A partition paused after a foreign fence and assigned again must fetch again.</summary>
    private void ResumeReassigned()
    {
        if (_assignedSincePoll.Count > 0)
        {
            _consumer.Resume(_assignedSincePoll);
            _assignedSincePoll.Clear();
        }
    }

    // ---- Step 2 and 3: batch ------------------------------------------------------------------------

    private void Accept(ConsumeResult<byte[]?, byte[]?> result)
    {
        var partition = result.TopicPartition;
        if (!_owned.TryGetValue(partition, out var owned) || result.Offset.Value < owned.NextOffset)
        {
            // Not (or no longer) ours, or fetched before a seek: the database decides what comes next.
            return;
        }

        var slice = _batch.Slice(partition, owned.Epoch, owned.NextOffset);
        var target = _targets[result.Topic];
        var values = new object?[target.Mapping.Columns.Count];
        var error = target.Converter.TryConvertChange(result, values, out var change);
        if (error is not null)
        {
            Reject(slice, target.Mapping, result, error);
        }
        else if (change != ChangeKind.Skip)
        {
            slice.Rows.Add(new RowChange(target.Mapping, change, values, result));
        }

        // Skipped and dead-lettered messages advance the offset too (invariant 3).
        slice.NextOffset = result.Offset.Value + 1;
        owned.NextOffset = slice.NextOffset;
        _batch.Count(slice, RowSize.EstimateBytes(result));
    }

    private void Reject(PartitionSlice slice, MappingConfig mapping, ConsumeResult<byte[]?, byte[]?> result, ConversionError error)
    {
        if (mapping.OnError == ErrorPolicy.Fail)
        {
            throw new SinkStoppedException(
                $"mapping '{mapping.Name}' ({mapping.File}) cannot convert {result.TopicPartitionOffset}: {error}. " +
                "on_error is 'fail', so the sink stops here without advancing past this message; fix the mapping or set on_error: dead_letter.");
        }

        Log.DeadLettered(_logger, result.TopicPartition, result.Offset.Value, mapping.Name, error.ToString());
        slice.DeadLetters.Add(DeadLetters.From(mapping, result, error.Kind.ToString(), error.Message));
    }

    private bool BatchIsDue()
    {
        var limits = _config.Connector.Batch;
        return !_batch.IsEmpty && (_batch.Messages >= limits.MaxRows || _batch.Bytes >= limits.MaxBytes
            || DateTime.UtcNow - _batch.StartedAt >= limits.MaxLatency);
    }

    private void StartWrite()
    {
        var batch = _batch;
        _batch = new WriteBatch();
        _inFlight = new InFlight(Task.Run(() => _writer.WriteAsync(batch, CancellationToken.None)), batch, Stopwatch.StartNew());
    }

    /// <summary>Waits for the in-flight batch, retries it on transient failures, then handles fences and the Kafka commit.</summary>
    private async Task FinishInFlightAsync(CancellationToken stopping)
    {
        if (_inFlight is not { } inFlight)
        {
            return;
        }

        WriteResult result;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                result = await inFlight.Task;
                break;
            }
            catch (Exception e) when (IsTransient(e))
            {
                // The commit may or may not have happened. Retrying is safe either way: if it did, the offsets
                // no longer match and the retry is fenced, then re-claimed from what the database holds.
                var delay = Backoff(attempt);
                Log.WriteRetry(_logger, (long)delay.TotalMilliseconds, attempt, e.Message);
                await Task.Delay(delay, stopping);
                _inFlight = inFlight = inFlight with { Task = Task.Run(() => _writer.WriteAsync(inFlight.Batch, CancellationToken.None)) };
            }
        }

        _inFlight = null;
        Log.BatchCommitted(_logger, inFlight.Batch.Messages, result.Rows, result.Committed.Count, inFlight.Elapsed.ElapsedMilliseconds);
        await HandleFencedAsync(result.Fenced, stopping);
        CommitToKafka(result.Committed);
    }

    private static bool IsTransient(Exception e) =>
        e is NpgsqlException { IsTransient: true } or TimeoutException
        || e is PostgresException { SqlState: "40001" or "40P01" or "57P01" or "53300" };

    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(10_000, 100 * Math.Pow(2, attempt - 1)) * (0.5 + Random.Shared.NextDouble() / 2));

    // ---- Fencing ------------------------------------------------------------------------------------

    /// <summary>
    /// A fenced partition stops being consumed. If the newer claim is this process's own (an operator reset),
    /// it is claimed again and consumption restarts where the database now says; otherwise another consumer
    /// owns it and the group will take it away from us.
    /// </summary>
    private async Task HandleFencedAsync(IReadOnlyList<TopicPartition> fenced, CancellationToken stopping)
    {
        var ours = fenced.Where(_owned.ContainsKey).ToList();
        if (ours.Count == 0)
        {
            return;
        }

        foreach (var partition in ours)
        {
            Log.Fenced(_logger, partition);
            _owned.Remove(partition);
            _batch.Remove(partition);
        }

        var reclaimed = await _offsets.ReclaimOwnAsync(ours, stopping);
        foreach (var claim in reclaimed)
        {
            _consumer.Seek(Own(claim));
        }

        var foreign = ours.Except(reclaimed.Select(c => c.Partition)).ToList();
        if (foreign.Count > 0)
        {
            _consumer.Pause(foreign);
            foreach (var partition in foreign)
            {
                Log.PausedForeignClaim(_logger, partition);
            }
        }
    }

    private async Task CheckClaimsAsync(CancellationToken stopping)
    {
        _lastClaimCheck = DateTime.UtcNow;
        if (_owned.Count > 0)
        {
            var claims = _owned.Select(o => (o.Key, o.Value.Epoch)).ToList();
            await HandleFencedAsync(await _offsets.FindFencedAsync(claims, stopping), stopping);
        }
    }

    // ---- Step 4: revoke and lost --------------------------------------------------------------------

    private void OnRevoked(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        // The next owner claims these partitions once this callback returns. Let the in-flight commit finish
        // first so it does not needlessly get fenced; the callback is synchronous, hence the blocking wait.
        // Its result is handled by the loop afterwards.
        try
        {
            _inFlight?.Task.Wait(_config.Connector.ShutdownGrace);
        }
        catch (AggregateException)
        {
            // A failed commit is retried by the loop; for these partitions it no longer matters.
        }

        Release(partitions);
        Log.Revoked(_logger, string.Join(", ", partitions.Select(p => p.TopicPartition)));
    }

    private void OnLost(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> partitions)
    {
        // Another consumer may already own these: never commit for them again. A commit already sent is
        // harmless: it either lands before the new owner's claim, or is fenced by it.
        Release(partitions);
        Log.Lost(_logger, string.Join(", ", partitions.Select(p => p.TopicPartition)));
    }

    private void Release(List<TopicPartitionOffset> partitions)
    {
        foreach (var partition in partitions)
        {
            _owned.Remove(partition.TopicPartition);
            _batch.Remove(partition.TopicPartition);
        }
    }

    // ---- Step 5: Kafka commit -----------------------------------------------------------------------

    private void CommitToKafka(IReadOnlyList<PartitionSlice> committed)
    {
        var offsets = committed.Where(s => _owned.ContainsKey(s.Partition))
            .Select(s => new TopicPartitionOffset(s.Partition, new Offset(s.NextOffset))).ToList();
        if (offsets.Count == 0)
        {
            return;
        }

        try
        {
            _consumer.Commit(offsets);
        }
        catch (KafkaException e)
        {
            Log.KafkaCommitFailed(_logger, e.Error.ToString());
        }
    }

    // ---- Step 6: shutdown ---------------------------------------------------------------------------

    private async Task ShutdownAsync()
    {
        Log.Stopping(_logger, _config.Connector.ShutdownGrace.TotalSeconds);
        using var grace = new CancellationTokenSource(_config.Connector.ShutdownGrace);
        try
        {
            await FinishInFlightAsync(grace.Token).WaitAsync(grace.Token);
            if (!_batch.IsEmpty)
            {
                StartWrite();
                await FinishInFlightAsync(grace.Token).WaitAsync(grace.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Whatever did not commit is still in Kafka and is re-consumed from the stored offsets.
            Log.GraceExceeded(_logger);
        }

        _consumer.Close();
        Log.Stopped(_logger);
    }

    private void OnError(Error error)
    {
        if (error.IsFatal)
        {
            _fatal = error;
        }

        Log.KafkaError(_logger, error.ToString());
    }

    private void OnLog(LogMessage message)
    {
        if (message.Level <= SyslogLevel.Warning)
        {
            Log.KafkaError(_logger, $"{message.Facility}: {message.Message}");
        }
    }

    private static string DefaultOwner() => $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    public void Dispose() => _consumer.Dispose();
}
