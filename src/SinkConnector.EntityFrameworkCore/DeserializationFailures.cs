using System.Net;
using System.Text.Json;
using Confluent.SchemaRegistry;
using SinkConnector.Failures;
using SinkConnector.Mapping;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>
/// What a failed deserialization means, as for the sink's own formats: the message is bad (a dead letter of that
/// kind), or the schema registry did not answer (the batch is prepared again later, nothing dead-lettered).
/// </summary>
internal static class DeserializationFailures
{
    /// <summary>The dead-letter kind for <paramref name="e"/>; throws <see cref="SchemaRegistryUnavailableException"/> for an outage.</summary>
    public static string Classify(Exception error, string topic)
    {
        // A registry client's failure may arrive wrapped (AggregateException, the serde's own exception).
        var e = error;
        for (var inner = error; inner is not null; inner = inner.InnerException)
        {
            if (inner is SchemaRegistryException or HttpRequestException or TimeoutException)
            {
                e = inner;
                break;
            }
        }

        switch (e)
        {
            case JsonException:
                return nameof(ConversionErrorKind.InvalidJson);
            case SchemaRegistryException r when r.ErrorCode == 40403 || r.Status == HttpStatusCode.NotFound:
                return nameof(ConversionErrorKind.UnknownSchema);
            case SchemaRegistryException r:
                // Refused (401/403, 5xx): every message would fail alike; waiting names the cause in the retry warnings.
                throw new SchemaRegistryUnavailableException(
                    $"the schema registry refused a request for topic {topic} (HTTP {(int)r.Status}, error {r.ErrorCode}: {r.Message}); " +
                    "check the SchemaRegistry settings' url and credentials", r);
            case HttpRequestException or TaskCanceledException or TimeoutException:
                throw new SchemaRegistryUnavailableException(
                    $"the schema registry did not answer for topic {topic}: {ExceptionMessages.Chain(e, ": ")}", e);
            default:
                // Not the wire format, truncated, a schema the reader cannot resolve: the bytes are the problem.
                return nameof(ConversionErrorKind.InvalidEncoding);
        }
    }
}
