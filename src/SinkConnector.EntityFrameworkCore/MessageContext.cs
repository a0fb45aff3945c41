using System.Text;
using Confluent.Kafka;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>Where a message came from: its topic, partition and offset, key, headers and timestamp.</summary>
public sealed class MessageContext(ConsumeResult<byte[]?, byte[]?> result)
{
    public string Topic => result.Topic;

    public int Partition => result.Partition.Value;

    public long Offset => result.Offset.Value;

    public byte[]? Key => result.Message.Key;

    /// <summary>True for a message without a value, a delete by key on a compacted topic (<see cref="ITombstoneHandler{TContext}"/>).</summary>
    public bool IsTombstone => result.Message.Value is null;

    /// <summary>The key as UTF-8 text, or null for a message without a key.</summary>
    public string? KeyText => Key is null ? null : Encoding.UTF8.GetString(Key);

    public Headers Headers => result.Message.Headers ?? [];

    /// <summary>The message timestamp, or null when the producer set none.</summary>
    public DateTimeOffset? Timestamp =>
        result.Message.Timestamp.Type == TimestampType.NotAvailable ? null : result.Message.Timestamp.UtcDateTime;
}
