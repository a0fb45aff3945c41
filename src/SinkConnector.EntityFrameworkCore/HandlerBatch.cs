using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using SinkConnector.Engine;
using SinkConnector.Failures;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>
/// A batch's messages for the handlers, in consumption order (per partition in offset order). They are deserialized
/// on the thread pool a chunk at a time while the batch fills (<see cref="MessageDeserialization{TContext}"/>), as the
/// sink's writer converts its rows, and collected when the batch's write starts (<see cref="CompleteAsync"/>).
/// </summary>
internal sealed class HandlerBatch<TContext>(MessageDeserialization<TContext> deserialization) : IBatchContent
    where TContext : DbContext
{
    // Small enough that the last chunk, deserialized when the write starts, is quick (a few ms); larger than the sink's
    // (BatchConverter: 512 / 32 KiB), whose conversion costs more per message: each chunk wakes a pool thread, which
    // spins a while after it (the benchmark's profile: 6.5 % of the process's CPU in LowLevelLifoSemaphore spinning
    // with 32 KiB chunks of its 200-byte messages, one per ~160 messages of about 1 µs each).
    private const int ChunkMessages = 1024;
    private const int ChunkBytes = 256 * 1024;

    private readonly List<ReceivedMessage> _pending = [];
    private int _pendingBytes;

    // Deserializations started on the thread pool, in consumption order.
    private readonly BackgroundChunks<DeserializedChunk<TContext>> _chunks = new();

    // The slices the messages were consumed under (see MessagesOf).
    private readonly HashSet<PartitionSlice> _slices = [];
    private PartitionSlice? _lastSlice;

    /// <summary>The messages the handlers get, filled by <see cref="CompleteAsync"/>.</summary>
    public List<HandledMessage<TContext>> Messages { get; } = [];

    public void Add(PartitionSlice slice, ConsumeResult<byte[]?, byte[]?> message, int bytes)
    {
        // Messages come in runs of one partition (a fetch response's share of it): one set lookup per run.
        if (slice != _lastSlice)
        {
            _slices.Add(slice);
            _lastSlice = slice;
        }

        _pending.Add(new ReceivedMessage(slice, message));
        _pendingBytes += bytes;
        if (_pending.Count >= ChunkMessages || _pendingBytes >= ChunkBytes)
        {
            StartChunk();
        }
    }

    /// <summary>
    /// In the write task, before its first attempt: deserializes what is left and collects every chunk, in order. When
    /// the schema registry does not answer, <see cref="SchemaRegistryUnavailableException"/> passes to the engine, which
    /// calls again after a backoff: the chunks collected stay collected, the failed ones are deserialized again.
    /// </summary>
    public async Task CompleteAsync()
    {
        StartChunk();
        await _chunks.CollectAsync(chunk =>
        {
            Messages.AddRange(chunk.Messages);
            foreach (var (slice, deadLetter) in chunk.DeadLetters)
            {
                slice.DeadLetters.Add(deadLetter);
            }
        });
    }

    /// <summary>
    /// The messages of the slices still in <paramref name="batch"/>. A partition revoked, lost or fenced while the batch
    /// filled was removed from it (its messages are its next owner's); claimed again, it got a new slice, which consumes
    /// the partition again from the stored offset: the old slice's messages must not be handled a second time.
    /// </summary>
    public List<HandledMessage<TContext>> MessagesOf(WriteBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return _slices.All(s => IsCurrent(batch, s)) ? Messages : [.. Messages.Where(m => IsCurrent(batch, m.Slice))];
    }

    private static bool IsCurrent(WriteBatch batch, PartitionSlice slice) =>
        batch.Partitions.TryGetValue(slice.Partition, out var current) && current == slice;

    private void StartChunk()
    {
        if (_pending.Count == 0)
        {
            return;
        }

        ReceivedMessage[] messages = [.. _pending];
        _chunks.Start(() => deserialization.Start(messages));
        _pending.Clear();
        _pendingBytes = 0;
    }
}

/// <summary>A message ready for its handler; a null <see cref="Value"/> is a tombstone.</summary>
internal sealed record HandledMessage<TContext>(
    PartitionSlice Slice, ConsumeResult<byte[]?, byte[]?> Result, HandlerRegistration<TContext> Handler, object? Value)
    where TContext : DbContext
{
    public MessageContext Context { get; } = new(Result);
}
