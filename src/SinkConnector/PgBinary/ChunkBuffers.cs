using System.Collections.Concurrent;

namespace SinkConnector.PgBinary;

/// <summary>
/// The arrays of <see cref="EncodedChunk"/>s, reused from batch to batch. A chunk's array lives from its conversion to
/// its batch's commit, long enough to be promoted and copied by two garbage collections, and was about 40 % of the
/// bytes the sink allocated per message (the rest is mostly Confluent.Kafka's per-message objects): reusing it takes
/// those collections' copying and most of the zeroing and page faults of fresh memory off every message.
/// </summary>
public sealed class ChunkBuffers(int kept)
{
    /// <summary>
    /// Every pooled array has this length: what a full chunk asks for (twice its message bytes, 16 per message) with
    /// room for the message that filled it, and still below the large object heap's 85,000 bytes.
    /// </summary>
    public const int ArrayBytes = 80 * 1024;

    private readonly ConcurrentBag<byte[]> _free = [];

    /// <summary>A buffer of at least <paramref name="capacity"/> bytes: a pooled array when one is that large, else a new one.</summary>
    public CopyBuffer Rent(int capacity) =>
        capacity > ArrayBytes ? new CopyBuffer(capacity)
        : new CopyBuffer(_free.TryTake(out var array) ? array : GC.AllocateUninitializedArray<byte>(ArrayBytes));

    /// <summary>Takes back the array of <paramref name="buffer"/>; only when nothing reads that buffer any more.</summary>
    public void Return(CopyBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        // One that grew out of its pooled array is left to the collector, as are arrays beyond the number kept.
        if (buffer.Array.Length == ArrayBytes && _free.Count < kept)
        {
            _free.Add(buffer.Array);
        }
    }
}
