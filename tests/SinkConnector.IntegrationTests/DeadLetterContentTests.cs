using System.Globalization;
using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>What of a dead-lettered message reaches the operator: logs and <c>sink dlq</c> output, and which headers are stored.</summary>
public class DeadLetterContentTests(TestServices services)
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Dead_letter_log_lines_and_dlq_output_escape_control_characters_from_the_message()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "dlq_escape", partitions: 1);
        await bed.WriteMappingAsync("events.yaml", SinkTestBed.EventsMapping(bed.Topic, onError: "dead_letter"));
        var poison = new Message<byte[]?, byte[]?>
        {
            Key = "k1"u8.ToArray(),
            // The JSON escapes decode to ESC sequences (colour, window title) in the id, which the error message quotes.
            Value = """{"id":"\u001b[31mred\u001b]0;owned\u0007","body":"b"}"""u8.ToArray(),
            Headers = new Headers { { "x\u001b[2J", "v"u8.ToArray() } },
        };
        await bed.ProduceAsync(bed.Topic, [(0, SinkTestBed.Event(0)), (0, poison), (0, SinkTestBed.Event(2))]);

        using (var sink = bed.StartSink())
        {
            await bed.WaitForCommittedAsync(3, s_catchUp, () => sink.Output);
            await sink.WaitForOutputAsync("Dead letter for", s_catchUp);
            sink.Signal(SinkProcess.SIGTERM);
            await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
            var line = sink.Output.Split('\n').Single(l => l.Contains("Dead letter for", StringComparison.Ordinal));
            Assert.DoesNotContain('\u001b', line);
            Assert.DoesNotContain('\u0007', line);
            Assert.Contains("\\u001b[31mred\\u001b]0;owned\\u0007", line, StringComparison.Ordinal);
        }

        var id = (await bed.QueryAsync("SELECT id FROM sink.dead_letters", r => r.GetInt64(0))).Single();
        foreach (var command in new[] { new[] { "dlq", "show", id.ToString(CultureInfo.InvariantCulture) }, ["dlq", "list"], ["dlq", "show", id.ToString(CultureInfo.InvariantCulture), "--json"] })
        {
            var (exit, output) = await SinkProcess.RunToEndAsync([.. command, "--config", bed.ConfigDirectory], bed.Environment);
            Assert.True(exit == 0, output);
            Assert.DoesNotContain('\u001b', output);
            Assert.DoesNotContain('\u0007', output);
            Assert.Contains("red", output, StringComparison.Ordinal);
        }

        var (_, shown) = await SinkProcess.RunToEndAsync(["dlq", "show", id.ToString(CultureInfo.InvariantCulture), "--config", bed.ConfigDirectory], bed.Environment);
        Assert.Matches(@"error_message: +.*\\u001b\[31mred\\u001b\]0;owned\\u0007", shown);
        Assert.Contains("  x\\u001b[2J (text, 1 bytes): v", shown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Headers_named_in_redact_headers_are_stored_redacted_and_the_others_verbatim()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "dlq_redact", partitions: 1);
        await bed.WriteMappingAsync("events.yaml", SinkTestBed.EventsMapping(bed.Topic, onError: "dead_letter"));
        await File.AppendAllTextAsync(Path.Combine(bed.ConfigDirectory, "sink.yaml"), "\ndead_letters:\n  redact_headers: [authorization]\n", TestContext.Current.CancellationToken);
        var poison = new Message<byte[]?, byte[]?>
        {
            Key = "k1"u8.ToArray(),
            Value = """{"id":1}"""u8.ToArray(),
            Headers = new Headers { { "Authorization", "Bearer secret-token"u8.ToArray() }, { "trace-id", "t1"u8.ToArray() } },
        };
        await bed.ProduceAsync(bed.Topic, [(0, SinkTestBed.Event(0)), (0, poison), (0, SinkTestBed.Event(2))]);
        await bed.RunInProcessAsync(() => bed.WaitForCommittedAsync(3, s_catchUp), s_catchUp);

        var headers = (await bed.QueryAsync("SELECT headers::text FROM sink.dead_letters", r => r.GetString(0))).Single();
        Assert.DoesNotContain(Convert.ToBase64String("Bearer secret-token"u8.ToArray()), headers, StringComparison.Ordinal);
        Assert.Contains(Convert.ToBase64String("t1"u8.ToArray()), headers, StringComparison.Ordinal);

        var id = (await bed.QueryAsync("SELECT id FROM sink.dead_letters", r => r.GetInt64(0))).Single();
        var (exit, shown) = await SinkProcess.RunToEndAsync(["dlq", "show", id.ToString(CultureInfo.InvariantCulture), "--config", bed.ConfigDirectory], bed.Environment);
        Assert.True(exit == 0, shown);
        Assert.Contains("  Authorization (text, 10 bytes): [redacted]", shown, StringComparison.Ordinal);
        Assert.Contains("  trace-id (text, 2 bytes): t1", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-token", shown, StringComparison.Ordinal);
    }
}
