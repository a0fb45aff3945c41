using Confluent.Kafka;
using SinkConnector.Engine;
using SinkConnector.Offsets;

namespace SinkConnector.UnitTests.Engine;

/// <summary>The claim state machine: every transition, its timers, and the model's findings (stale foreign claim, fence of an older claim).</summary>
public class PartitionClaimsTests
{
    private static readonly TopicPartition s_p0 = new("orders", 0);
    private static readonly TopicPartition s_p1 = new("orders", 1);
    private static readonly DateTime s_t0 = new(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan s_foreignTimeout = TimeSpan.FromSeconds(50);

    private static PartitionClaims NewClaims() => new(s_foreignTimeout);

    private static PartitionClaim Claim(TopicPartition partition, long epoch, long? nextOffset = 100) => new(partition, epoch, nextOffset);

    /// <summary>Brings <see cref="s_p0"/> into <paramref name="state"/> through the transitions the loop makes.</summary>
    private static PartitionClaims In(ClaimState? state, long epoch = 1)
    {
        var claims = NewClaims();
        switch (state)
        {
            case ClaimState.Owned:
                claims.Own(Claim(s_p0, epoch), s_t0);
                break;
            case ClaimState.Unclaimed:
                claims.Defer([s_p0], s_t0);
                break;
            case ClaimState.FencedOwn:
                claims.Own(Claim(s_p0, epoch), s_t0);
                claims.Fence([(s_p0, epoch)], s_t0);
                break;
            case ClaimState.Foreign:
                claims.Own(Claim(s_p0, epoch), s_t0);
                claims.Fence([(s_p0, epoch)], s_t0);
                claims.Foreign(s_p0, s_t0);
                break;
        }

        Assert.Equal(state, claims.StateOf(s_p0));
        return claims;
    }

    // Test methods are public and ClaimState is internal: theories take the state's name ("None": not assigned).
    public static TheoryData<string> EveryState => ["None", "Owned", "Unclaimed", "FencedOwn", "Foreign"];

    private static ClaimState? Parse(string state) => state == "None" ? null : Enum.Parse<ClaimState>(state);

    [Fact]
    public void An_assigned_partition_that_is_claimed_is_owned_at_the_claims_epoch_and_offset()
    {
        var claims = NewClaims();

        var owned = claims.Own(Claim(s_p0, epoch: 4, nextOffset: 100), s_t0);

        Assert.Equal(ClaimState.Owned, claims.StateOf(s_p0));
        Assert.True(claims.TryGetOwned(s_p0, out var found));
        Assert.Same(owned, found);
        Assert.Equal(4, found.Epoch);
        Assert.Equal(100, found.NextOffset);
        Assert.Same(owned, claims.Owned[s_p0]);
        Assert.False(claims.IsHeld(s_p0));
        Assert.False(claims.HasPendingClaims);
    }

    [Theory]
    [MemberData(nameof(EveryState))]
    public void A_successful_claim_owns_the_partition_from_every_state(string name)
    {
        var state = Parse(name);
        var claims = In(state, epoch: 1);

        claims.Own(Claim(s_p0, epoch: 2, nextOffset: 7), s_t0);

        Assert.Equal(ClaimState.Owned, claims.StateOf(s_p0));
        Assert.True(claims.TryGetOwned(s_p0, out var owned));
        Assert.Equal(2, owned.Epoch);
        Assert.Equal(7, owned.NextOffset);
    }

    [Theory]
    [MemberData(nameof(EveryState))]
    public void Release_forgets_the_partition_from_every_state(string name)
    {
        var state = Parse(name);
        var claims = In(state);

        claims.Release(s_p0);

        Assert.Null(claims.StateOf(s_p0));
        Assert.False(claims.TryGetOwned(s_p0, out _));
        Assert.Empty(claims.Owned);
        Assert.False(claims.IsHeld(s_p0));
        Assert.False(claims.HasPendingClaims);
        Assert.Empty(claims.ExpireForeign(s_t0 + (10 * s_foreignTimeout)));
    }

    [Fact]
    public void A_deferred_claim_leaves_the_partitions_unclaimed_held_and_pending()
    {
        var claims = NewClaims();

        claims.Defer([s_p0, s_p1], s_t0);

        Assert.Equal(ClaimState.Unclaimed, claims.StateOf(s_p0));
        Assert.Equal(ClaimState.Unclaimed, claims.StateOf(s_p1));
        Assert.False(claims.TryGetOwned(s_p0, out _));
        Assert.True(claims.IsHeld(s_p0));
        Assert.True(claims.HasPendingClaims);
        var (assigned, fenced) = claims.PendingClaims();
        Assert.Equal([s_p0, s_p1], assigned.OrderBy(p => p.Partition.Value));
        Assert.Empty(fenced);
    }

    [Fact]
    public void Deferring_an_owned_partition_drops_its_ownership()
    {
        var claims = In(ClaimState.Owned);

        claims.Defer([s_p0], s_t0);

        Assert.Equal(ClaimState.Unclaimed, claims.StateOf(s_p0));
        Assert.False(claims.TryGetOwned(s_p0, out _));
    }

    [Fact]
    public void A_fence_of_the_current_claim_makes_the_partition_fenced_own_held_and_pending()
    {
        var claims = In(ClaimState.Owned, epoch: 3);

        var fenced = claims.Fence([(s_p0, 3L)], s_t0);

        Assert.Equal([s_p0], fenced);
        Assert.Equal(ClaimState.FencedOwn, claims.StateOf(s_p0));
        Assert.False(claims.TryGetOwned(s_p0, out _));
        Assert.Empty(claims.Owned);
        Assert.True(claims.IsHeld(s_p0));
        var (assigned, reclaim) = claims.PendingClaims();
        Assert.Empty(assigned);
        Assert.Equal([s_p0], reclaim);
    }

    [Fact]
    public void A_fence_without_an_epoch_fences_whatever_claim_is_owned_now()
    {
        var claims = In(ClaimState.Owned, epoch: 3);

        Assert.Equal([s_p0], claims.Fence([(s_p0, (long?)null)], s_t0));
        Assert.Equal(ClaimState.FencedOwn, claims.StateOf(s_p0));
    }

    [Fact]
    public void A_fence_of_an_older_claim_after_a_reclaim_leaves_the_newer_claim_owned()
    {
        // The batch was consumed under epoch 1; the partition was fenced (or revoked) and claimed again at epoch 2
        // while that batch's write was in flight. Its fence says nothing about epoch 2.
        var claims = In(ClaimState.Owned, epoch: 1);
        claims.Fence([(s_p0, 1L)], s_t0);
        var reclaimed = claims.Own(Claim(s_p0, epoch: 2), s_t0);

        var fenced = claims.Fence([(s_p0, 1L)], s_t0);

        Assert.Empty(fenced);
        Assert.Equal(ClaimState.Owned, claims.StateOf(s_p0));
        Assert.True(claims.TryGetOwned(s_p0, out var owned));
        Assert.Same(reclaimed, owned);
    }

    [Theory]
    [InlineData("None")]
    [InlineData("Unclaimed")]
    [InlineData("FencedOwn")]
    [InlineData("Foreign")]
    public void A_fence_of_a_partition_not_owned_changes_nothing(string name)
    {
        var state = Parse(name);
        var claims = In(state, epoch: 1);

        Assert.Empty(claims.Fence([(s_p0, 1L), (s_p0, (long?)null)], s_t0));
        Assert.Equal(state, claims.StateOf(s_p0));
    }

    [Fact]
    public void A_fenced_partition_whose_newer_claim_is_another_consumers_becomes_foreign_held_and_not_pending()
    {
        var claims = In(ClaimState.FencedOwn);

        claims.Foreign(s_p0, s_t0);

        Assert.Equal(ClaimState.Foreign, claims.StateOf(s_p0));
        Assert.True(claims.IsHeld(s_p0));
        Assert.False(claims.TryGetOwned(s_p0, out _));
        Assert.False(claims.HasPendingClaims);
        Assert.False(claims.ClaimRetryDue(s_t0));
    }

    [Theory]
    [InlineData("None")]
    [InlineData("Owned")]
    [InlineData("Unclaimed")]
    public void Only_a_fenced_own_partition_can_become_foreign(string name)
    {
        var state = Parse(name);
        var claims = In(state);

        claims.Foreign(s_p0, s_t0);

        Assert.Equal(state, claims.StateOf(s_p0));
    }

    [Fact]
    public void A_stale_foreign_claim_expires_after_the_timeout_and_not_before()
    {
        // eng/model FIX_STALL: the foreign claim reached Postgres after the group had moved the partition here; the
        // group never takes it away, so a session timeout later it is claimed again.
        var claims = In(ClaimState.Foreign);

        Assert.Empty(claims.ExpireForeign(s_t0 + s_foreignTimeout));
        Assert.Equal(ClaimState.Foreign, claims.StateOf(s_p0));

        var later = s_t0 + s_foreignTimeout + TimeSpan.FromMilliseconds(1);
        var expired = Assert.Single(claims.ExpireForeign(later));

        Assert.Equal(s_p0, expired.Partition);
        Assert.Equal(later - s_t0, expired.Foreign);
        Assert.Equal(ClaimState.Unclaimed, claims.StateOf(s_p0));
        Assert.True(claims.IsHeld(s_p0));
        Assert.Equal([s_p0], claims.PendingClaims().Assigned);
        Assert.Empty(claims.ExpireForeign(later + (10 * s_foreignTimeout)));
    }

    [Fact]
    public void The_foreign_timeout_counts_from_when_the_partition_became_foreign()
    {
        var claims = NewClaims();
        claims.Own(Claim(s_p0, 1), s_t0);
        claims.Fence([(s_p0, 1L)], s_t0);
        var foreignAt = s_t0 + TimeSpan.FromMinutes(5);
        claims.Foreign(s_p0, foreignAt);

        Assert.Empty(claims.ExpireForeign(foreignAt + s_foreignTimeout));
        Assert.Single(claims.ExpireForeign(foreignAt + s_foreignTimeout + TimeSpan.FromSeconds(1)));
    }

    [Theory]
    [InlineData("Owned")]
    [InlineData("Unclaimed")]
    [InlineData("FencedOwn")]
    public void Only_foreign_partitions_expire(string name)
    {
        var state = Parse(name)!.Value;
        var claims = In(state);

        Assert.Empty(claims.ExpireForeign(s_t0 + (10 * s_foreignTimeout)));
        Assert.Equal(state, claims.StateOf(s_p0));
    }

    [Fact]
    public void Pending_claims_split_assigned_partitions_to_claim_from_fenced_ones_to_reclaim()
    {
        var p2 = new TopicPartition("orders", 2);
        var p3 = new TopicPartition("orders", 3);
        var claims = NewClaims();
        claims.Defer([s_p0], s_t0);
        claims.Own(Claim(s_p1, 1), s_t0);
        claims.Fence([(s_p1, 1L)], s_t0);
        claims.Own(Claim(p2, 1), s_t0);
        claims.Own(Claim(p3, 1), s_t0);
        claims.Fence([(p3, 1L)], s_t0);
        claims.Foreign(p3, s_t0);

        var (assigned, fenced) = claims.PendingClaims();

        Assert.Equal([s_p0], assigned);
        Assert.Equal([s_p1], fenced);
    }

    [Fact]
    public void Claims_are_retried_only_while_some_are_pending()
    {
        var claims = In(ClaimState.Owned);
        Assert.False(claims.ClaimRetryDue(s_t0));

        claims.Defer([s_p1], s_t0);

        Assert.True(claims.ClaimRetryDue(s_t0));
    }

    [Fact]
    public void A_failed_claim_is_retried_after_its_backoff_which_grows_with_every_failure_and_resets_on_success()
    {
        var claims = NewClaims();
        claims.Defer([s_p0], s_t0);

        var now = s_t0;
        var delays = new List<TimeSpan>();
        for (var failure = 1; failure <= 5; failure++)
        {
            var delay = claims.ClaimFailed(now);
            delays.Add(delay);
            Assert.False(claims.ClaimRetryDue(now));
            Assert.False(claims.ClaimRetryDue(now + delay - TimeSpan.FromTicks(1)));
            Assert.True(claims.ClaimRetryDue(now + delay));
            now += delay;
        }

        // Exponential with jitter between half and all of the step (100 ms doubling): each range is above the one before.
        for (var i = 0; i < delays.Count; i++)
        {
            var step = 100 * Math.Pow(2, i);
            Assert.InRange(delays[i].TotalMilliseconds, step / 2, step);
        }

        claims.ClaimsSucceeded();
        Assert.InRange(claims.ClaimFailed(now).TotalMilliseconds, 50, 100);
    }

    [Fact]
    public void Claims_are_checked_when_never_checked_and_then_once_per_interval()
    {
        var claims = NewClaims();
        Assert.True(claims.ClaimCheckDue(s_t0));

        claims.Checked(s_t0);

        Assert.False(claims.ClaimCheckDue(s_t0));
        Assert.False(claims.ClaimCheckDue(s_t0 + PartitionClaims.ClaimCheckInterval));
        Assert.True(claims.ClaimCheckDue(s_t0 + PartitionClaims.ClaimCheckInterval + TimeSpan.FromMilliseconds(1)));
    }

    [Fact]
    public void Only_an_assigned_partition_without_a_current_claim_is_held()
    {
        Assert.False(In(null).IsHeld(s_p0));
        Assert.False(In(ClaimState.Owned).IsHeld(s_p0));
        Assert.True(In(ClaimState.Unclaimed).IsHeld(s_p0));
        Assert.True(In(ClaimState.FencedOwn).IsHeld(s_p0));
        Assert.True(In(ClaimState.Foreign).IsHeld(s_p0));
    }

    [Fact]
    public void A_partitions_transitions_leave_the_other_partitions_alone()
    {
        var claims = NewClaims();
        var other = claims.Own(Claim(s_p1, 9), s_t0);
        claims.Own(Claim(s_p0, 1), s_t0);

        claims.Fence([(s_p0, 1L)], s_t0);
        claims.Foreign(s_p0, s_t0);
        claims.ExpireForeign(s_t0 + (2 * s_foreignTimeout));
        claims.Release(s_p0);

        Assert.True(claims.TryGetOwned(s_p1, out var owned));
        Assert.Same(other, owned);
        Assert.Equal(ClaimState.Owned, claims.StateOf(s_p1));
    }
}
