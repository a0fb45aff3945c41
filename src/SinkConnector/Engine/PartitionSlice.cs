using Confluent.Kafka;
using SinkConnector.Offsets;
using SinkConnector.Schema;

namespace SinkConnector.Engine;

/// <summary>A partition's share of a batch: its claim, where it starts and ends, and its dead letters.</summary>
public sealed class PartitionSlice(TopicPartition partition, long epoch, long? expectedOffset)
{
    public TopicPartition Partition { get; } = partition;

    /// <summary>The claim this slice was consumed under; the commit is fenced unless the database still has it.</summary>
    public long Epoch { get; } = epoch;

    /// <summary>The next_offset the database must still hold (null: never committed).</summary>
    public long? ExpectedOffset { get; } = expectedOffset;

    /// <summary>Last consumed offset + 1, including skipped and dead-lettered messages (invariant 3).</summary>
    public long NextOffset { get; set; }

    public int Messages { get; set; }

    public long Bytes { get; set; }

    /// <summary>Messages the writer could not turn into rows, committed with the batch.</summary>
    public List<DeadLetter> DeadLetters { get; } = [];

    /// <summary>The offset update this slice commits, fenced by its epoch and expected offset.</summary>
    public OffsetAdvance Advance => new(Partition, Epoch, ExpectedOffset, NextOffset);
}
