using System.Diagnostics.CodeAnalysis;
using Confluent.Kafka;
using SinkConnector.Failures;
using SinkConnector.Offsets;

namespace SinkConnector.Engine;

/// <summary>
/// Steps 1 and 4 of the protocol (docs/exactly-once.md) as a state machine: every partition the group assigned to this
/// consumer and its <see cref="ClaimState"/>, with the timers that move claims along (retrying failed claims with
/// backoff, checking idle claims, expiring stale foreign claims). Pure bookkeeping: the loop makes the Kafka and
/// Postgres calls and reports their outcome here. Only the polling thread touches it.
/// </summary>
/// <param name="foreignClaimTimeout">How long a partition stays <see cref="ClaimState.Foreign"/> before it is claimed again: the group's session timeout and a margin.</param>
internal sealed class PartitionClaims(TimeSpan foreignClaimTimeout)
{
    /// <summary>An idle partition never commits, so it would never notice an operator reset; its claim is checked this often instead.</summary>
    public static readonly TimeSpan ClaimCheckInterval = TimeSpan.FromSeconds(3);

    /// <summary>A partition with messages to fetch that delivered none for this long is sought again (<see cref="OwnedPartition.IsStalled"/>).</summary>
    public static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(15);

    private readonly Dictionary<TopicPartition, Claim> _claims = [];
    private readonly Dictionary<TopicPartition, OwnedPartition> _owned = [];

    // Partitions per state: the loop asks for pending and foreign claims between messages whenever no write is in
    // flight, which must not cost a scan of every assigned partition.
    private readonly int[] _counts = new int[Enum.GetValues<ClaimState>().Length];
    private DateTime _lastCheck;
    private DateTime _nextRetry;
    private int _failedRetries;

    private readonly record struct Claim(ClaimState State, DateTime Since);

    /// <summary>The partitions this consumer owns, with their positions.</summary>
    public IReadOnlyDictionary<TopicPartition, OwnedPartition> Owned => _owned;

    public ClaimState? StateOf(TopicPartition partition) => _claims.TryGetValue(partition, out var claim) ? claim.State : null;

    /// <summary>The hot path: one lookup per fetched message.</summary>
    public bool TryGetOwned(TopicPartition partition, [NotNullWhen(true)] out OwnedPartition? owned) => _owned.TryGetValue(partition, out owned);

    /// <summary>Whether an assigned partition must stay paused: it has no current claim.</summary>
    public bool IsHeld(TopicPartition partition) => StateOf(partition) is { } state && state != ClaimState.Owned;

    public bool HasPendingClaims => _counts[(int)ClaimState.Unclaimed] + _counts[(int)ClaimState.FencedOwn] > 0;

    /// <summary>A claim succeeded (any state, or none: a fresh assignment): the partition is owned at the claim's epoch.</summary>
    public OwnedPartition Own(PartitionClaim claim, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(claim);
        var owned = new OwnedPartition(claim.Epoch, claim.NextOffset, now);
        Put(claim.Partition, new Claim(ClaimState.Owned, now));
        _owned[claim.Partition] = owned;
        return owned;
    }

    /// <summary>Assigned, but claiming failed: the partitions wait, paused, for the loop to claim them.</summary>
    public void Defer(IEnumerable<TopicPartition> assigned, DateTime now)
    {
        foreach (var partition in assigned)
        {
            Set(partition, ClaimState.Unclaimed, now);
        }
    }

    /// <summary>
    /// A commit or claim check found newer claims than these epochs (null: whatever is owned now). Returns the
    /// partitions whose current claim that was, which are now <see cref="ClaimState.FencedOwn"/>; a partition not owned,
    /// or owned under a newer claim the fence says nothing about, is left alone.
    /// </summary>
    public IReadOnlyList<TopicPartition> Fence(IEnumerable<(TopicPartition Partition, long? Epoch)> fenced, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(fenced);
        var ours = new List<TopicPartition>();
        foreach (var (partition, epoch) in fenced)
        {
            if (_owned.TryGetValue(partition, out var owned) && (epoch is null || owned.Epoch == epoch))
            {
                Set(partition, ClaimState.FencedOwn, now);
                ours.Add(partition);
            }
        }

        return ours;
    }

    /// <summary>Reclaiming a fenced partition found the newer claim is another consumer's.</summary>
    public void Foreign(TopicPartition partition, DateTime now)
    {
        if (StateOf(partition) == ClaimState.FencedOwn)
        {
            Set(partition, ClaimState.Foreign, now);
        }
    }

    /// <summary>Revoked or lost: no longer this consumer's to claim, consume or commit.</summary>
    public void Release(TopicPartition partition)
    {
        if (_claims.Remove(partition, out var claim))
        {
            _counts[(int)claim.State]--;
        }

        _owned.Remove(partition);
    }

    /// <summary>
    /// Foreign partitions the group has not taken away within the timeout: the foreign claim was stale (eng/model,
    /// FIX_STALL), so they become unclaimed. Returns them with how long they were foreign.
    /// </summary>
    public IReadOnlyList<(TopicPartition Partition, TimeSpan Foreign)> ExpireForeign(DateTime now)
    {
        // Runs between messages whenever no write is in flight: nothing to do unless some partition is foreign.
        if (_counts[(int)ClaimState.Foreign] == 0)
        {
            return [];
        }

        List<(TopicPartition, TimeSpan)>? expired = null;
        foreach (var (partition, claim) in _claims)
        {
            if (claim.State == ClaimState.Foreign && now - claim.Since > foreignClaimTimeout)
            {
                (expired ??= []).Add((partition, now - claim.Since));
            }
        }

        foreach (var (partition, _) in expired ?? [])
        {
            Set(partition, ClaimState.Unclaimed, now);
        }

        return expired ?? [];
    }

    /// <summary>The claims to make: assigned partitions to claim, and fenced ones to reclaim if the newer claim is ours.</summary>
    public (IReadOnlyList<TopicPartition> Assigned, IReadOnlyList<TopicPartition> Fenced) PendingClaims() =>
        ([.. _claims.Where(c => c.Value.State == ClaimState.Unclaimed).Select(c => c.Key)],
         [.. _claims.Where(c => c.Value.State == ClaimState.FencedOwn).Select(c => c.Key)]);

    /// <summary>Whether pending claims may be tried now: not before the backoff of the last failure has passed.</summary>
    public bool ClaimRetryDue(DateTime now) => now >= _nextRetry && HasPendingClaims;

    /// <summary>Claiming failed transiently: the next try waits for the backoff, which grows with every failure in a row.</summary>
    public TimeSpan ClaimFailed(DateTime now)
    {
        var delay = RetryBackoff.Database.Delay(++_failedRetries);
        _nextRetry = now + delay;
        return delay;
    }

    public void ClaimsSucceeded() => _failedRetries = 0;

    /// <summary>Whether the owned claims (or, with none, the database) are due for a check.</summary>
    public bool ClaimCheckDue(DateTime now) => now - _lastCheck > ClaimCheckInterval;

    public void Checked(DateTime now) => _lastCheck = now;

    private void Set(TopicPartition partition, ClaimState state, DateTime now)
    {
        Put(partition, new Claim(state, now));
        _owned.Remove(partition);
    }

    /// <summary>The one place a partition's claim is stored, keeping the per-state counts.</summary>
    private void Put(TopicPartition partition, Claim claim)
    {
        if (_claims.TryGetValue(partition, out var old))
        {
            _counts[(int)old.State]--;
        }

        _claims[partition] = claim;
        _counts[(int)claim.State]++;
    }
}
