namespace SinkConnector.Schema;

/// <summary>A message that could not be written, kept with everything needed to inspect and replay it.</summary>
public sealed class DeadLetter
{
    public long Id { get; set; }

    /// <summary>
    /// The consumer group (connector) that dead-lettered it; only that connector's <c>sink dlq</c> commands see it. Null
    /// for a dead letter written before dead letters were kept per connector whose connector could not be told
    /// (migration <c>DeadLettersPerConnector</c>); set when it is written.
    /// </summary>
    public string? GroupId { get; set; }
    public required string Mapping { get; set; }
    public required string Topic { get; set; }
    public int Partition { get; set; }
    public long Offset { get; set; }
    public DateTimeOffset? KafkaTimestamp { get; set; }
    public byte[]? Key { get; set; }
    public byte[]? Value { get; set; }

    /// <summary>Headers as a JSON array of <c>{"key": ..., "value": base64}</c> objects, in message order.</summary>
    public string? Headers { get; set; }

    public required string ErrorKind { get; set; }
    public required string ErrorMessage { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
