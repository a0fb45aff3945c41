using Confluent.Kafka;

namespace SinkConnector.Mapping;

/// <summary>Size accounting for <c>batch.max_bytes</c>: what the message occupies while it waits in a batch.</summary>
public static class RowSize
{
    /// <summary>Key, value and header bytes (names counted as one byte per char). Saturates at <see cref="int.MaxValue"/>.</summary>
    public static int EstimateBytes(ConsumeResult<byte[]?, byte[]?> message)
    {
        var m = message.Message;
        long total = (m.Key?.Length ?? 0) + (m.Value?.Length ?? 0);
        if (m.Headers is { } headers)
        {
            // Indexed, not foreach: Headers' enumerator is an interface and would allocate per message.
            for (var i = 0; i < headers.Count; i++)
            {
                var header = headers[i];
                total += header.Key.Length + (header.GetValueBytes()?.Length ?? 0);
            }
        }

        return (int)Math.Min(total, int.MaxValue);
    }
}
