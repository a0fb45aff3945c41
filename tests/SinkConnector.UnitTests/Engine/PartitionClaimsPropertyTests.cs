using Confluent.Kafka;
using CsCheck;
using SinkConnector.Engine;
using SinkConnector.Offsets;

namespace SinkConnector.UnitTests.Engine;

/// <summary>
/// Property-based (CsCheck): random sequences of claim events never leave a partition owned (so consumed and
/// committed under its epoch) unless its last claim was this consumer's and no fence of that claim, deferral or
/// release came after it. Checked against a reference model of the state machine after every event.
/// </summary>
public class PartitionClaimsPropertyTests
{
    private static readonly TopicPartition[] s_partitions = [new("orders", 0), new("orders", 1), new("orders", 2)];
    private static readonly DateTime s_t0 = new(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan s_foreignTimeout = TimeSpan.FromSeconds(30);

    private enum Kind
    {
        /// <summary>This consumer claims (assign, retry, reclaim own): the next epoch.</summary>
        Own,

        /// <summary>Another consumer claims (maybe stale): the next epoch, nothing reported here.</summary>
        OtherClaims,

        /// <summary>Claiming on assignment failed.</summary>
        Defer,

        /// <summary>A commit found the claim of the owned epoch superseded.</summary>
        FenceCurrent,

        /// <summary>A commit of a batch consumed under an older claim was fenced.</summary>
        FenceStale,

        /// <summary>A claim check found whatever is owned superseded.</summary>
        FenceCheck,

        /// <summary>Reclaiming found the newer claim is another consumer's.</summary>
        Foreign,

        /// <summary>Time passes; foreign claims may expire.</summary>
        Advance,

        /// <summary>Revoked or lost.</summary>
        Release,
    }

    private sealed record Event(Kind Kind, int Partition, int Amount)
    {
        public override string ToString() => $"{Kind}(p{Partition}, {Amount})";
    }

    private static readonly Gen<Event> s_event = Gen.Select(Gen.Enum<Kind>(), Gen.Int[0, s_partitions.Length - 1], Gen.Int[0, 40], (k, p, a) => new Event(k, p, a));

    private static readonly Gen<Event[]> s_events = s_event.Array[1, 60];

    /// <summary>The state machine as a table: state, since when, and the epoch of an owned claim.</summary>
    private readonly record struct Entry(ClaimState State, DateTime Since, long Epoch);

    private sealed class Model
    {
        public Dictionary<TopicPartition, Entry> Claims { get; } = [];
    }

    [Fact]
    public void Random_claim_events_never_leave_a_partition_owned_without_a_current_own_claim()
    {
        s_events.Sample(events =>
        {
            var claims = new PartitionClaims(s_foreignTimeout);
            var model = new Model();
            var epochs = new long[s_partitions.Length];
            var now = s_t0;

            foreach (var e in events)
            {
                var p = s_partitions[e.Partition];
                Entry? current = model.Claims.TryGetValue(p, out var c) ? c : null;
                IReadOnlyList<TopicPartition> expired = [];
                switch (e.Kind)
                {
                    case Kind.Own:
                        var epoch = ++epochs[e.Partition];
                        claims.Own(new PartitionClaim(p, epoch, e.Amount), now);
                        model.Claims[p] = new Entry(ClaimState.Owned, now, epoch);
                        break;
                    case Kind.OtherClaims:
                        ++epochs[e.Partition];
                        break;
                    case Kind.Defer:
                        claims.Defer([p], now);
                        model.Claims[p] = new Entry(ClaimState.Unclaimed, now, 0);
                        break;
                    case Kind.FenceCurrent or Kind.FenceStale or Kind.FenceCheck:
                        long? fencedEpoch = e.Kind switch
                        {
                            Kind.FenceCheck => null,
                            Kind.FenceCurrent => current is { State: ClaimState.Owned } owned ? owned.Epoch : epochs[e.Partition],
                            _ => Math.Max(0, epochs[e.Partition] - 1 - (e.Amount % 3)),
                        };
                        var fenced = claims.Fence([(p, fencedEpoch)], now);
                        var fencesOwned = current is { State: ClaimState.Owned } o && (fencedEpoch is null || fencedEpoch == o.Epoch);
                        if (fencesOwned)
                        {
                            model.Claims[p] = new Entry(ClaimState.FencedOwn, now, 0);
                        }

                        Assert.Equal(fencesOwned ? [p] : [], fenced);
                        break;
                    case Kind.Foreign:
                        claims.Foreign(p, now);
                        if (current is { State: ClaimState.FencedOwn })
                        {
                            model.Claims[p] = new Entry(ClaimState.Foreign, now, 0);
                        }

                        break;
                    case Kind.Advance:
                        now += TimeSpan.FromSeconds(e.Amount);
                        expired = [.. claims.ExpireForeign(now).Select(x => x.Partition)];
                        var due = model.Claims.Where(m => m.Value.State == ClaimState.Foreign && now - m.Value.Since > s_foreignTimeout).Select(m => m.Key).ToList();
                        foreach (var partition in due)
                        {
                            model.Claims[partition] = new Entry(ClaimState.Unclaimed, now, 0);
                        }

                        Assert.Equal(due.ToHashSet(), expired.ToHashSet());
                        break;
                    case Kind.Release:
                        claims.Release(p);
                        model.Claims.Remove(p);
                        break;
                }

                AssertAgrees(model, claims);
            }
        }, iter: 2000);
    }

    private static void AssertAgrees(Model model, PartitionClaims claims)
    {
        foreach (var p in s_partitions)
        {
            Entry? expected = model.Claims.TryGetValue(p, out var m) ? m : null;
            Assert.Equal(expected?.State, claims.StateOf(p));

            // Never a commit from a non-owner: owned (fetched, batched, committed) exactly under the last own claim.
            var isOwned = claims.TryGetOwned(p, out var owned);
            Assert.Equal(expected?.State == ClaimState.Owned, isOwned);
            Assert.Equal(isOwned, claims.Owned.ContainsKey(p));
            if (isOwned)
            {
                Assert.Equal(expected!.Value.Epoch, owned!.Epoch);
            }

            Assert.Equal(expected is { State: not ClaimState.Owned }, claims.IsHeld(p));
        }

        var (assigned, fenced) = claims.PendingClaims();
        Assert.Equal(model.Claims.Where(c => c.Value.State == ClaimState.Unclaimed).Select(c => c.Key).ToHashSet(), assigned.ToHashSet());
        Assert.Equal(model.Claims.Where(c => c.Value.State == ClaimState.FencedOwn).Select(c => c.Key).ToHashSet(), fenced.ToHashSet());
        Assert.Equal(assigned.Count + fenced.Count > 0, claims.HasPendingClaims);
        Assert.Equal(model.Claims.Count(c => c.Value.State == ClaimState.Owned), claims.Owned.Count);
    }
}
