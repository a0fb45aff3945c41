using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using SinkConnector.Schema;
using SinkConnector.Writing;

namespace SinkConnector.Engine;

/// <summary>
/// Everything one database transaction commits: rows for any number of tables, dead letters, and the new
/// next offset of every partition they came from. Kept per partition so that a fenced partition's share
/// can be dropped without touching the others.
/// </summary>
public sealed class WriteBatch
{
    public Dictionary<TopicPartition, PartitionSlice> Partitions { get; } = [];

    public int Messages { get; private set; }

    public long Bytes { get; private set; }

    public DateTime StartedAt { get; private set; }

    public bool IsEmpty => Partitions.Count == 0;

    /// <summary>Accepted messages not yet in a conversion chunk, in consumption order (<see cref="BatchConverter"/>).</summary>
    internal List<ConsumedMessage> Unconverted { get; } = [];

    /// <summary>Message bytes of <see cref="Unconverted"/> (<see cref="RowSize"/>).</summary>
    internal int UnconvertedBytes { get; set; }

    /// <summary>Conversions started on the thread pool, in consumption order.</summary>
    internal List<Task<ConvertedMessage[]>> Chunks { get; } = [];

    /// <summary>The slice of a partition, started at the offset this owner expects to find in the database.</summary>
    public PartitionSlice Slice(TopicPartition partition, long epoch, long? expectedOffset)
    {
        if (!Partitions.TryGetValue(partition, out var slice))
        {
            if (Partitions.Count == 0)
            {
                StartedAt = DateTime.UtcNow;
            }

            slice = new PartitionSlice(partition, epoch, expectedOffset);
            Partitions.Add(partition, slice);
        }

        return slice;
    }

    /// <summary>Counts one consumed message of <paramref name="slice"/> against the batch limits.</summary>
    public void Count(PartitionSlice slice, int bytes)
    {
        slice.Messages++;
        slice.Bytes += bytes;
        Messages++;
        Bytes += bytes;
    }

    /// <summary>Drops a partition's share (revoked, lost, fenced); the batch limits count only what is left.</summary>
    public void Remove(TopicPartition partition)
    {
        if (Partitions.Remove(partition, out var slice))
        {
            Messages -= slice.Messages;
            Bytes -= slice.Bytes;
        }
    }
}

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

    /// <summary>Row changes in offset order (all of the topic's one mapping); filled by <see cref="BatchConverter.CompleteAsync"/>.</summary>
    public List<RowChange> Rows { get; } = [];

    public List<DeadLetter> DeadLetters { get; } = [];
}

/// <summary>
/// One message's effect on a mapping's table: values of every column for a write, of the key columns for a delete.
/// The message is kept so that a change Postgres rejects can still become a dead letter with its raw bytes; a
/// write the conversion already encoded keeps its tuple and a copy of the message instead (<see cref="Encoded"/>).
/// </summary>
public readonly record struct RowChange(MappingConfig Mapping, ChangeKind Kind, object?[] Values, ConsumeResult<byte[]?, byte[]?>? Message)
{
    /// <summary>
    /// Set by <see cref="BatchConverter"/>; then <see cref="Message"/> is null and <see cref="Values"/> holds only the key
    /// columns that mode upsert merges by (the others are null), or nothing at all for mode insert.
    /// </summary>
    public EncodedRow? Encoded { get; init; }

    /// <summary>The message this change came from, for its dead letter.</summary>
    public ConsumeResult<byte[]?, byte[]?> Source => Message ?? Encoded!.Value.Message();
}
