namespace SinkConnector.Engine;

/// <summary>Where an assigned partition stands with its claim in Postgres (<see cref="PartitionClaims"/>).</summary>
internal enum ClaimState
{
    /// <summary>Claimed: fetched, batched and committed under its epoch.</summary>
    Owned,

    /// <summary>Assigned by the group but not claimed yet (the claim failed, Postgres was away): paused; the loop claims it.</summary>
    Unclaimed,

    /// <summary>A newer claim fenced it: paused; claimed again only if that claim is this process's own (an operator's reset).</summary>
    FencedOwn,

    /// <summary>
    /// Fenced by another consumer's claim: paused until the group revokes it. Still assigned here a session timeout
    /// later, the foreign claim was a stale one (made by a consumer the group had already expelled) and the partition
    /// becomes <see cref="Unclaimed"/> again.
    /// </summary>
    Foreign,
}
