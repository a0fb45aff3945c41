using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Schema;

namespace SinkConnector.DeadLetters;

/// <summary>Builds dead-letter rows from Kafka messages, keeping the raw bytes so nothing is lost.</summary>
public static class DeadLetterBuilder
{
    /// <summary>The error kind of a row Postgres refused at write time (beside the conversion error kinds).</summary>
    public const string RejectedKind = "Rejected";

    /// <summary>Library mode: the message's handler threw.</summary>
    public const string HandlerFailedKind = "HandlerFailed";

    /// <summary>Library mode: the message's handler ran longer than its timeout.</summary>
    public const string HandlerTimeoutKind = "Timeout";

    // Stored base64 like every header value, so a replay and `sink dlq show` read it as they read any header.
    private static readonly string s_redacted = Convert.ToBase64String(Encoding.UTF8.GetBytes(DeadLetterSettings.RedactedHeaderValue));

    public static DeadLetter From(MappingConfig mapping, ConsumeResult<byte[]?, byte[]?> result, string kind, string message) =>
        From(mapping.Name, mapping.DeadLetters, result, kind, message);

    /// <param name="source">What the message was for: a mapping's name, or a library-mode handler's.</param>
    public static DeadLetter From(
        string source, DeadLetterSettings settings, ConsumeResult<byte[]?, byte[]?> result, string kind, string message) => new()
    {
        Mapping = source,
        Topic = result.Topic,
        Partition = result.Partition.Value,
        Offset = result.Offset.Value,
        KafkaTimestamp = result.Message.Timestamp.Type == TimestampType.NotAvailable ? null : result.Message.Timestamp.UtcDateTime,
        Key = result.Message.Key,
        Value = result.Message.Value,
        Headers = HeadersJson(result.Message.Headers, settings.RedactHeaders),
        ErrorKind = kind,
        ErrorMessage = message,
    };

    /// <summary>The headers as stored; values of the <paramref name="redact"/> names (set by the operator: secrets such as tokens) are replaced.</summary>
    private static string? HeadersJson(Headers? headers, IReadOnlySet<string> redact)
    {
        if (headers is null || headers.Count == 0)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var header in headers)
            {
                json.WriteStartObject();
                json.WriteString("key", header.Key);
                var value = header.GetValueBytes();
                if (value is not null && redact.Contains(header.Key))
                {
                    json.WriteString("value", s_redacted);
                }
                else if (value is null)
                {
                    json.WriteNull("value");
                }
                else
                {
                    json.WriteBase64String("value", value);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
