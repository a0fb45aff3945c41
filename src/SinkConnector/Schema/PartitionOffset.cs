namespace SinkConnector.Schema;

/// <summary>
/// One row of <c>&lt;schema&gt;.offsets</c>: the next offset to consume for a partition and the epoch of
/// its current owner. This table, not Kafka's committed offsets, is the source of truth.
/// </summary>
public sealed class PartitionOffset
{
    public required string GroupId { get; set; }
    public required string Topic { get; set; }
    public int Partition { get; set; }

    /// <summary>Null until the first batch of the partition commits: then <c>auto_offset_reset</c> applies.</summary>
    public long? NextOffset { get; set; }

    /// <summary>Bumped by every claim and every operator reset; a commit from an older epoch is fenced.</summary>
    public long Epoch { get; set; }

    /// <summary>The process that made the last claim; lets a fenced owner tell an operator reset from a new owner.</summary>
    public string? Owner { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
