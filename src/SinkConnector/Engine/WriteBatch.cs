using Confluent.Kafka;

namespace SinkConnector.Engine;

/// <summary>
/// Everything one database transaction commits: the writer's content (rows for any number of tables), dead letters,
/// and the new next offset of every partition they came from. Kept per partition so that a fenced partition's share
/// can be dropped without touching the others.
/// </summary>
public sealed class WriteBatch(IBatchContent content, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public Dictionary<TopicPartition, PartitionSlice> Partitions { get; } = [];

    /// <summary>What the writer made of the accepted messages so far (<see cref="IBatchWriter.NewContent"/>).</summary>
    public IBatchContent Content { get; } = content;

    /// <summary>Where this batch's write is (<see cref="BatchTransaction"/> and the writer set it at every step).</summary>
    public WriteProgress Progress { get; } = new();

    public int Messages { get; private set; }

    public long Bytes { get; private set; }

    public DateTime StartedAt { get; private set; }

    public bool IsEmpty => Partitions.Count == 0;

    /// <summary>The slice of a partition, started at the offset this owner expects to find in the database.</summary>
    public PartitionSlice Slice(TopicPartition partition, long epoch, long? expectedOffset)
    {
        if (!Partitions.TryGetValue(partition, out var slice))
        {
            if (Partitions.Count == 0)
            {
                StartedAt = _time.GetUtcNow().UtcDateTime;
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
