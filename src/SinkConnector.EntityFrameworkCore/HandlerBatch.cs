using Confluent.Kafka;
using SinkConnector.Engine;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>A batch's messages in consumption order (per partition in offset order), deserialized when the write starts.</summary>
internal sealed class HandlerBatch : IBatchContent
{
    public List<(PartitionSlice Slice, ConsumeResult<byte[]?, byte[]?> Result)> Received { get; } = [];

    /// <summary>The messages the handlers get, filled by <see cref="HandlerWriter{TContext}.PrepareAsync"/>.</summary>
    public List<HandledMessage> Messages { get; } = [];

    public void Add(PartitionSlice slice, ConsumeResult<byte[]?, byte[]?> message, int bytes) => Received.Add((slice, message));
}

/// <summary>A message ready for its handler; a null <see cref="Value"/> is a tombstone.</summary>
internal sealed record HandledMessage(PartitionSlice Slice, ConsumeResult<byte[]?, byte[]?> Result, object? Value)
{
    public MessageContext Context { get; } = new(Result);
}
