using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using SinkConnector.DeadLetters;
using SinkConnector.Operations;

namespace SinkConnector.UnitTests.Configuration;

/// <summary><c>dead_letters.redact_headers</c> in sink.yaml, and what it does to the dead letters the sink builds.</summary>
public sealed class DeadLetterSettingsTests : IDisposable
{
    private readonly TempConfigDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Without_the_section_no_header_is_redacted()
    {
        var config = _dir.Load();

        Assert.Empty(config.Connector.DeadLetters.RedactHeaders);
        Assert.Empty(config.Mappings[0].DeadLetters.RedactHeaders);
    }

    [Fact]
    public void Redacted_header_names_reach_every_mapping_and_match_case_insensitively()
    {
        _dir.Write("mappings/payments.yaml", TempConfigDirectory.ValidMapping.Replace("orders", "payments", StringComparison.Ordinal));
        _dir.Write("sink.yaml", TempConfigDirectory.ValidSink + "\ndead_letters:\n  redact_headers: [Authorization, x-api-key]\n");

        var config = _dir.Load();

        Assert.Equal(2, config.Mappings.Count);
        Assert.All(config.Mappings, m => Assert.True(m.DeadLetters.RedactHeaders.SetEquals(["authorization", "X-API-KEY"])));
    }

    [Theory]
    [InlineData("dead_letters:\n  redact_headers: authorization\n", "dead_letters.redact_headers", "a list")]
    [InlineData("dead_letters:\n  redact_headers: [authorization, '']\n", "dead_letters.redact_headers[1]", "must not be empty")]
    [InlineData("dead_letters:\n  redact_headers: [[a]]\n", "dead_letters.redact_headers[0]", "a single value")]
    [InlineData("dead_letters:\n  redact_header: [authorization]\n", "dead_letters.redact_header", "unknown key")]
    [InlineData("dead_letters: [authorization]\n", "dead_letters", "a mapping")]
    public void Invalid_redact_headers_are_config_errors(string yaml, string key, string reason)
    {
        _dir.Write("sink.yaml", TempConfigDirectory.ValidSink + "\n" + yaml);

        ConfigAssert.HasOnlyError(_dir.LoadFails(), _dir.SinkFile, key, reason);
    }

    [Fact]
    public void A_dead_letter_stores_redacted_headers_as_the_marker_and_every_other_header_verbatim()
    {
        _dir.Write("sink.yaml", TempConfigDirectory.ValidSink + "\ndead_letters:\n  redact_headers: [authorization]\n");
        var mapping = _dir.Load().Mappings[0];
        var message = new ConsumeResult<byte[]?, byte[]?>
        {
            Topic = "orders",
            Partition = new Partition(0),
            Offset = new Offset(7),
            Message = new Message<byte[]?, byte[]?>
            {
                Value = "{}"u8.ToArray(),
                Headers = new Headers { { "Authorization", "Bearer secret"u8.ToArray() }, { "trace-id", "t1"u8.ToArray() }, { "authorization", null } },
            },
        };

        var letter = DeadLetterBuilder.From(mapping, message, "MissingField", "value.id: missing");

        Assert.DoesNotContain(Convert.ToBase64String("Bearer secret"u8.ToArray()), letter.Headers, StringComparison.Ordinal);
        var stored = DeadLetterReplay.ToHeaders(letter.Headers).Select(h => (h.Key, h.GetValueBytes() is { } v ? Encoding.UTF8.GetString(v) : null)).ToList();
        Assert.Equal([("Authorization", "[redacted]"), ("trace-id", "t1"), ("authorization", null)], stored);
        using var json = JsonDocument.Parse(letter.Headers!);
        Assert.Equal(3, json.RootElement.GetArrayLength());
    }
}
