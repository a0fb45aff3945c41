using System.Text;
using Avro;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry.Serdes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SinkConnector.EntityFrameworkCore;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Library mode with a Schema Registry deserializer chosen by the app (Confluent's <see cref="AvroDeserializer{T}"/>),
/// its registry client from the <c>KafkaSink:SchemaRegistry</c> settings; values written by Confluent's AvroSerializer
/// against the registry stand-in; Confluent's <see cref="JsonDeserializer{T}"/> for JSON Schema values written by its
/// JsonSerializer; a registry outage.
/// </summary>
public sealed class LibraryRegistryTests(TestServices services, AvroRegistryFixture avro) : IClassFixture<AvroRegistryFixture>
{
    private static readonly RecordSchema s_note = (RecordSchema)Avro.Schema.Parse(
        """{"type":"record","name":"Note","namespace":"it","fields":[{"name":"id","type":"long"}]}""");

    private readonly SchemaRegistryStandIn _registry = avro.Registry;
    private readonly AvroProducerSerde _producer = avro.Producer;

    [Fact]
    public async Task Avro_values_reach_the_handler_and_values_it_cannot_read_become_dead_letters_of_their_kind()
    {
        var run = await LibraryRun.RunAsync<NotesContext>(services, "lib_avro", async topic =>
        {
            var messages = new List<Message<byte[]?, byte[]?>>();
            for (var id = 1; id <= 4; id++)
            {
                var record = new GenericRecord(s_note);
                record.Add("id", (long)id);
                messages.Add(new Message<byte[]?, byte[]?> { Value = await _producer.ValueAsync(topic, record) });
            }

            // Offset 4: JSON, not the registry's wire format; offset 5: the wire format with an id the registry lacks.
            messages.Add(new Message<byte[]?, byte[]?> { Value = Encoding.UTF8.GetBytes("""{"id":5}""") });
            messages.Add(new Message<byte[]?, byte[]?> { Value = [0, 0, 0, 0x27, 0x0F, 2] });
            return messages;
        }, (builder, connectionString, topic) =>
        {
            builder.Services.AddDbContextFactory<NotesContext>(o => o.UseNpgsql(connectionString));
            builder.Services.AddKafkaSink<NotesContext>(builder.Configuration.GetSection("KafkaSink"))
                .AddHandler<GenericRecord, AvroNoteHandler>(topic, registry => new AvroDeserializer<GenericRecord>(registry));
        }, ("KafkaSink:SchemaRegistry:Url", _registry.Url));

        Assert.True(run.ExitCode == 0, run.Logs.Text);
        Assert.Equal(4, await run.ScalarAsync("SELECT count(*) FROM notes WHERE id BETWEEN 1 AND 4"));
        Assert.Equal(6, await run.CommittedAsync());
        var deadLetters = await TestSql.QueryAsync(run.ConnectionString,
            "SELECT \"offset\", error_kind, mapping FROM sink.dead_letters ORDER BY 1", r => (r.GetInt64(0), r.GetString(1), r.GetString(2)));
        Assert.Equal([(4L, "InvalidEncoding", "AvroNoteHandler"), (5L, "UnknownSchema", "AvroNoteHandler")], deadLetters);
    }

    [Fact]
    public async Task Registry_deserializer_without_registry_settings_stops_the_host_naming_the_key()
    {
        var run = await LibraryRun.RunAsync<NotesContext>(services, "lib_avro_unset", Notes.Json(1, 1), (builder, connectionString, topic) =>
        {
            builder.Services.AddDbContextFactory<NotesContext>(o => o.UseNpgsql(connectionString));
            builder.Services.AddKafkaSink<NotesContext>(builder.Configuration.GetSection("KafkaSink"))
                .AddHandler<GenericRecord, AvroNoteHandler>(topic, registry => new AvroDeserializer<GenericRecord>(registry));
        });

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(run.Logs.Lines, l => l.Contains("KafkaSink:SchemaRegistry:Url: required", StringComparison.Ordinal));
        Assert.Equal(0, await run.CommittedAsync());
    }

    [Fact]
    public async Task Json_Schema_values_from_Confluents_JsonSerializer_reach_a_handler_registered_with_JsonDeserializer()
    {
        using var producer = new JsonSchemaProducerSerde<JsonNote>(_registry.Url);
        var run = await LibraryRun.RunAsync<NotesContext>(services, "lib_json_schema", async topic =>
        {
            var messages = new List<Message<byte[]?, byte[]?>>();
            for (var id = 1; id <= 3; id++)
            {
                messages.Add(new Message<byte[]?, byte[]?> { Value = await producer.ValueAsync(topic, new JsonNote { Id = id }) });
            }

            // Offset 3: plain JSON, not the registry's wire format.
            messages.Add(new Message<byte[]?, byte[]?> { Value = Encoding.UTF8.GetBytes("""{"Id":4}""") });
            return messages;
        }, (builder, connectionString, topic) =>
        {
            builder.Services.AddDbContextFactory<NotesContext>(o => o.UseNpgsql(connectionString));
            builder.Services.AddKafkaSink<NotesContext>(builder.Configuration.GetSection("KafkaSink"))
                .AddHandler<JsonNote, JsonNoteHandler>(topic, registry => new JsonDeserializer<JsonNote>(registry));
        }, ("KafkaSink:SchemaRegistry:Url", _registry.Url));

        Assert.True(run.ExitCode == 0, run.Logs.Text);
        Assert.Equal(3, await run.ScalarAsync("SELECT count(*) FROM notes WHERE id BETWEEN 1 AND 3"));
        Assert.Equal(4, await run.CommittedAsync());
        var deadLetters = await TestSql.QueryAsync(run.ConnectionString,
            "SELECT \"offset\", error_kind, mapping FROM sink.dead_letters ORDER BY 1", r => (r.GetInt64(0), r.GetString(1), r.GetString(2)));
        Assert.Equal([(3L, "InvalidEncoding", "JsonNoteHandler")], deadLetters);
    }

    [Fact]
    public async Task Registry_outage_makes_the_consumer_wait_and_retry_then_every_message_commits_and_none_is_dead_lettered()
    {
        var logs = new CollectingLogger();
        var connectionString = "";
        Task restored = Task.CompletedTask;
        var run = await LibraryRun.RunAsync<NotesContext>(services, "lib_avro_outage", async topic =>
        {
            var messages = new List<Message<byte[]?, byte[]?>>();
            for (var id = 1; id <= 4; id++)
            {
                var record = new GenericRecord(s_note);
                record.Add("id", (long)id);
                messages.Add(new Message<byte[]?, byte[]?> { Value = await _producer.ValueAsync(topic, record) });
            }

            // The consumer's registry client has fetched no schema yet: its first batch needs the registry.
            _registry.Reachable = false;
            restored = RestoreAfterRetriesAsync(logs, () => connectionString, LibraryRun.GroupId(topic));
            return messages;
        }, (builder, database, topic) =>
        {
            connectionString = database;
            builder.Logging.AddProvider(logs);
            builder.Services.AddDbContextFactory<NotesContext>(o => o.UseNpgsql(database));
            builder.Services.AddKafkaSink<NotesContext>(builder.Configuration.GetSection("KafkaSink"))
                .AddHandler<GenericRecord, AvroNoteHandler>(topic, registry => new AvroDeserializer<GenericRecord>(registry));
        }, ("KafkaSink:SchemaRegistry:Url", _registry.Url));

        await restored;
        Assert.True(run.ExitCode == 0, run.Logs.Text);
        Assert.Equal(4, await run.ScalarAsync("SELECT count(*) FROM notes WHERE id BETWEEN 1 AND 4"));
        Assert.Equal(4, await run.CommittedAsync());
        Assert.Equal(0, await run.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));
        Assert.Contains(run.Logs.Lines, l => l.Contains("the schema registry did not answer", StringComparison.Ordinal));
    }

    /// <summary>Opens the registry again once the consumer has retried the batch twice, having committed and dead-lettered nothing meanwhile.</summary>
    private async Task RestoreAfterRetriesAsync(CollectingLogger logs, Func<string> connectionString, string groupId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (logs.Lines.Count(l => l.Contains("Converting a batch failed, retrying", StringComparison.Ordinal)) < 2)
        {
            if (DateTime.UtcNow > deadline)
            {
                _registry.Reachable = true;
                throw new TimeoutException($"no second convert retry within 60 s:\n{logs.Text}");
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        var committed = await CommittedMessages.SumAsync(connectionString(), groupId);
        var deadLetters = await TestSql.ScalarAsync(connectionString(), "SELECT count(*) FROM sink.dead_letters");
        _registry.Reachable = true;
        Assert.Equal((0L, 0L), (committed, deadLetters));
    }

    private sealed class AvroNoteHandler : IMessageHandler<GenericRecord, NotesContext>
    {
        public Task HandleAsync(GenericRecord message, MessageContext context, NotesContext db, CancellationToken cancellationToken)
        {
            db.Add(new Note((long)message["id"]));
            return Task.CompletedTask;
        }
    }

    /// <summary>A JSON Schema value as Confluent's JsonSerializer writes it (Newtonsoft.Json: property names as declared).</summary>
    public sealed class JsonNote
    {
        public long Id { get; set; }
    }

    private sealed class JsonNoteHandler : IMessageHandler<JsonNote, NotesContext>
    {
        public Task HandleAsync(JsonNote message, MessageContext context, NotesContext db, CancellationToken cancellationToken)
        {
            db.Add(new Note(message.Id));
            return Task.CompletedTask;
        }
    }
}
