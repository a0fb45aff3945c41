using Confluent.Kafka;

namespace SinkConnector.PgBinary;

/// <summary>
/// The writes of one conversion chunk as binary COPY tuples (written by <see cref="Mapping.MessageConverter.TryEncode"/>), each beside a byte copy of
/// its message's key and value, in one buffer. A batch waiting for its commit thereby holds a few arrays per chunk
/// instead of a dozen small objects per row that every garbage collection would trace (the benchmark's profile: GC
/// pauses were a fifth of the sink's time while batches held their <c>ConsumeResult</c>s and boxed values).
/// </summary>
public sealed class EncodedChunk(int messages, int messageBytes, ChunkBuffers? buffers = null)
{
    // The key and value, and a tuple that is rarely bigger than the JSON it came from.
    private readonly CopyBuffer _buffer = buffers?.Rent(Capacity(messages, messageBytes)) ?? new(Capacity(messages, messageBytes));
    private readonly List<Entry> _entries = new(messages);

    private static int Capacity(int messages, int messageBytes) => (2 * messageBytes) + (16 * messages);

    private int _released;

    /// <summary>Gives the buffer back to <paramref name="buffers"/> once nothing reads this chunk's rows any more (its batch committed).</summary>
    public void Release()
    {
        // Twice would pool one array for two chunks.
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            buffers?.Return(_buffer);
        }
    }

    // A row read after its buffer went back to the pool would be another chunk's bytes: fail instead of writing them.
    private void ThrowIfReleased() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _released) != 0, this);

    /// <summary>Where the next tuple is written (<see cref="Mapping.MessageConverter.TryEncode"/>), before <see cref="Add"/> keeps it.</summary>
    public CopyBuffer Tuples => _buffer;

    /// <summary>Keeps the tuple written to <see cref="Tuples"/> from <paramref name="tuple"/> on, and what a dead letter needs of <paramref name="message"/>.</summary>
    public EncodedRow Add(int tuple, TopicPartition partition, ConsumeResult<byte[]?, byte[]?> message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var (key, value) = (message.Message.Key, message.Message.Value);
        var tupleLength = _buffer.Length - tuple;
        _buffer.Write(key);
        _buffer.Write(value);
        var headers = message.Message.Headers is { Count: > 0 } h ? h : null;
        _entries.Add(new Entry(tuple, tupleLength, key?.Length ?? -1, value?.Length ?? -1, partition, message.Offset.Value, message.Message.Timestamp, headers));
        return new EncodedRow(this, _entries.Count - 1);
    }

    internal ReadOnlySpan<byte> Tuple(int row)
    {
        ThrowIfReleased();
        var e = _entries[row];
        return _buffer.Written(e.Tuple, e.TupleLength);
    }

    /// <summary>The message again, as the client gave it (a rejected row's dead letter; rare, so it may allocate).</summary>
    internal ConsumeResult<byte[]?, byte[]?> Message(int row)
    {
        ThrowIfReleased();
        var e = _entries[row];
        var keyAt = e.Tuple + e.TupleLength;
        var valueAt = keyAt + Math.Max(e.KeyLength, 0);
        return new ConsumeResult<byte[]?, byte[]?>
        {
            TopicPartitionOffset = new TopicPartitionOffset(e.Partition, e.Offset),
            Message = new Message<byte[]?, byte[]?>
            {
                Key = e.KeyLength < 0 ? null : _buffer.Written(keyAt, e.KeyLength).ToArray(),
                Value = e.ValueLength < 0 ? null : _buffer.Written(valueAt, e.ValueLength).ToArray(),
                Timestamp = e.Timestamp,
                Headers = e.Headers,
            },
        };
    }

    /// <summary>Where a row's bytes are (lengths -1: a null key or value), and the rest of its message.</summary>
    private readonly record struct Entry(
        int Tuple, int TupleLength, int KeyLength, int ValueLength, TopicPartition Partition, long Offset, Timestamp Timestamp, Headers? Headers);
}

/// <summary>A write encoded by <see cref="EncodedChunk"/>: its tuple, and its message for a dead letter.</summary>
public readonly record struct EncodedRow(EncodedChunk Chunk, int Index)
{
    public ReadOnlySpan<byte> Tuple => Chunk.Tuple(Index);

    public ConsumeResult<byte[]?, byte[]?> Message() => Chunk.Message(Index);
}
