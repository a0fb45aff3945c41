using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Failures;
using SinkConnector.Offsets;
using SinkConnector.Schema;

namespace SinkConnector.Engine;

/// <summary>Steps 1 and 4: claims on assignment, fences, claim maintenance between batches, revoke and lost.</summary>
public sealed partial class ConsumerLoop
{
    // ---- Step 1: assign ------------------------------------------------------------------------------

    IReadOnlyList<TopicPartitionOffset> IRebalanceListener.OnAssigned(IReadOnlyList<TopicPartition> partitions)
    {
        _health.Joined();
        _report.Joined();
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
            claims = _offsets.Claim([.. partitions]);
            _health.DatabaseAnswered();
        }
        catch (Exception e)
        {
            if (PostgresErrors.IsTransient(e))
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
            _claims.Defer(partitions, Now());
            return [.. partitions.Select(p => new TopicPartitionOffset(p, ConsumerSettings.InitialOffset(_connector)))];
        }

        return [.. claims.Select(c => new TopicPartitionOffset(c.Partition, StartOffset(Own(c))))];
    }

    private OwnedPartition Own(PartitionClaim claim)
    {
        var owned = _claims.Own(claim, Now());
        _metrics.Claimed(claim.Partition, claim.NextOffset);
        Log.Claimed(_logger, claim.Partition, claim.Epoch, KafkaClient.Describe(StartOffset(owned)));
        return owned;
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

        var hold = _assignedSincePoll.Where(p => _backpressure || _claims.IsHeld(p)).ToList();
        _kafka.Pause(hold);
        _kafka.Resume(_assignedSincePoll.Except(hold).ToList());
        _assignedSincePoll.Clear();
    }

    /// <summary>Moves the fetch position to the next offset this process owes the database.</summary>
    private void Seek(TopicPartition partition, OwnedPartition owned)
    {
        owned.Repositioned(Now());
        _kafka.Seek(partition, StartOffset(owned));
    }

    private Offset StartOffset(OwnedPartition owned) =>
        owned.NextOffset is { } next ? new Offset(next) : ConsumerSettings.InitialOffset(_connector);

    // ---- Fencing and claim maintenance --------------------------------------------------------------

    /// <summary>
    /// Fenced partitions (already marked in <see cref="PartitionClaims"/>) stop being consumed. If the newer claim is
    /// this process's own (an operator reset), it is claimed again and consumption restarts where the database now
    /// says; otherwise another consumer owns it and it stays paused until the group takes it away from us (or
    /// assigns it again).
    /// </summary>
    private async Task HandleFencedAsync(IReadOnlyList<TopicPartition> fenced, CancellationToken stopping)
    {
        if (fenced.Count == 0)
        {
            return;
        }

        _kafka.Pause(fenced);
        foreach (var partition in fenced)
        {
            Log.Fenced(_logger, partition);
            _metrics.Fenced(partition);
            _batch.Remove(partition);
        }

        await RetryClaimsAsync(stopping);
    }

    /// <summary>The idle-time duties: stale foreign claims expire, claims that failed before are retried, current claims are checked.</summary>
    private async Task MaintainClaimsAsync(DateTime now, CancellationToken stopping)
    {
        foreach (var (partition, foreign) in _claims.ExpireForeign(now))
        {
            // Still assigned to us a session timeout later (a revoke or loss would have released it): claim it.
            Log.StaleForeignClaim(_logger, partition, (long)foreign.TotalSeconds);
        }

        if (_claims.ClaimRetryDue(now))
        {
            await RetryClaimsAsync(stopping);
        }
        else if (_claims.ClaimCheckDue(now))
        {
            await CheckClaimsAsync(stopping);
        }
    }

    private async Task RetryClaimsAsync(CancellationToken stopping)
    {
        var (assigned, fenced) = _claims.PendingClaims();
        List<PartitionClaim> claims;
        try
        {
            claims = [.. assigned.Count > 0 ? await _offsets.ClaimAsync(assigned, stopping) : []];
            claims.AddRange(fenced.Count > 0 ? await _offsets.ReclaimOwnAsync(fenced, stopping) : []);
        }
        catch (Exception e) when (PostgresErrors.IsTransient(e))
        {
            _health.DatabaseFailed();
            _metrics.Retried("claim");
            var delay = _claims.ClaimFailed(Now());
            Log.ClaimRetry(_logger, assigned.Count + fenced.Count, (long)delay.TotalMilliseconds, e.Message);
            return;
        }
        catch (Exception e) when (!stopping.IsCancellationRequested && ConnectorSchema.Explain(e, _connector) is { } reason)
        {
            throw new SinkStoppedException(ClaimFailure(e, reason));
        }

        _claims.ClaimsSucceeded();
        _health.DatabaseAnswered();
        foreach (var claim in claims)
        {
            // Seek while paused, then fetch: nothing fetched from the old position can reach the batch.
            Seek(claim.Partition, Own(claim));
            if (!_backpressure)
            {
                _kafka.Resume([claim.Partition]);
            }
        }

        foreach (var partition in fenced.Except(claims.Select(c => c.Partition)))
        {
            _claims.Foreign(partition, Now());
            Log.PausedForeignClaim(_logger, partition);
        }
    }

    private async Task CheckClaimsAsync(CancellationToken stopping)
    {
        _claims.Checked(Now());

        // Also with nothing owned: the check is what tells readiness that Postgres answers (again) while no
        // message arrives.
        IReadOnlyList<TopicPartition> fenced;
        try
        {
            fenced = await _offsets.FindFencedAsync([.. _claims.Owned.Select(o => (o.Key, o.Value.Epoch))], stopping);
        }
        catch (Exception e) when (PostgresErrors.IsTransient(e))
        {
            _health.DatabaseFailed();
            // Checked again next time; a commit in between would find a fence by itself.
            Log.ClaimCheckFailed(_logger, e.Message);
            return;
        }
        catch (Exception e) when (!stopping.IsCancellationRequested && ConnectorSchema.Explain(e, _connector) is { } reason)
        {
            throw new SinkStoppedException(ClaimFailure(e, reason));
        }

        _health.DatabaseAnswered();
        await HandleFencedAsync(_claims.Fence(fenced.Select(p => (p, (long?)null)), Now()), stopping);
    }

    // ---- Step 4: revoke and lost --------------------------------------------------------------------

    void IRebalanceListener.OnRevoked(IReadOnlyList<TopicPartition> partitions)
    {
        // The next owner claims these partitions once this callback returns. Let the in-flight commits finish
        // first so they do not needlessly get fenced; the callback is synchronous, hence the blocking wait.
        // Their results are handled by the loop afterwards.
        try
        {
            Task.WaitAll([.. _writes.Running], _connector.ShutdownGrace);
        }
        catch (AggregateException)
        {
            // A failed commit is retried by the loop; for these partitions it no longer matters.
        }

        Release(partitions);
        _metrics.Rebalanced("revoked");
        Log.Revoked(_logger, string.Join(", ", partitions));
    }

    void IRebalanceListener.OnLost(IReadOnlyList<TopicPartition> partitions)
    {
        // Another consumer may already own these: never commit for them again. A commit already sent is
        // harmless: it either lands before the new owner's claim, or is fenced by it.
        Release(partitions);
        // Lost: the group expelled this consumer, which joins again and waits for a new assignment.
        _report.WaitingForAssignment(Now());
        _metrics.Rebalanced("lost");
        Log.Lost(_logger, string.Join(", ", partitions));
    }

    private void Release(IReadOnlyList<TopicPartition> partitions)
    {
        foreach (var partition in partitions)
        {
            _claims.Release(partition);
            _kafkaCommits.Forget(partition);
            _batch.Remove(partition);
            _metrics.Released(partition);
        }
    }

    private string ClaimFailure(Exception e, string? reason = null) =>
        $"claiming partitions in {Sql.Table(_connector.Postgres.Schema, "offsets")} failed: " +
        (reason ?? ConnectorSchema.Explain(e, _connector) ?? e.Message);
}
