using System.Net;
using System.Text.Json;
using Confluent.SchemaRegistry;
using SinkConnector.EntityFrameworkCore;
using SinkConnector.Failures;

namespace SinkConnector.UnitTests.Library;

public class DeserializationFailuresTests
{
    [Fact]
    public void Bad_values_are_dead_letters_of_the_sinks_kinds()
    {
        Assert.Equal("InvalidJson", DeserializationFailures.Classify(new JsonException("'o' is an invalid start of a value"), "t"));
        Assert.Equal("UnknownSchema", DeserializationFailures.Classify(new SchemaRegistryException("Schema 9999 not found", HttpStatusCode.NotFound, 40403), "t"));
        Assert.Equal("InvalidEncoding", DeserializationFailures.Classify(new InvalidDataException("Magic byte was 123, expecting 0"), "t"));
    }

    [Fact]
    public void A_registry_that_does_not_answer_or_refuses_is_an_outage_also_when_wrapped()
    {
        var down = Assert.Throws<SchemaRegistryUnavailableException>(() =>
            DeserializationFailures.Classify(new AggregateException(new HttpRequestException("Connection refused")), "orders"));
        Assert.Contains("did not answer for topic orders: Connection refused", down.Message, StringComparison.Ordinal);

        var refused = Assert.Throws<SchemaRegistryUnavailableException>(() =>
            DeserializationFailures.Classify(new SchemaRegistryException("Unauthorized", HttpStatusCode.Unauthorized, 401), "orders"));
        Assert.Contains("refused a request for topic orders (HTTP 401", refused.Message, StringComparison.Ordinal);
    }
}
