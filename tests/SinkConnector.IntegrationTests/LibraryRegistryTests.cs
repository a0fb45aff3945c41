using System.Text;
using Avro;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry.Serdes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SinkConnector.EntityFrameworkCore;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Library mode with a Schema Registry deserializer chosen by the app (Confluent's <see cref="AvroDeserializer{T}"/>),
/// its registry client from the <c>KafkaSink:SchemaRegistry</c> settings; values written by Confluent's AvroSerializer
/// against the registry stand-in.
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

    private sealed class AvroNoteHandler : IMessageHandler<GenericRecord, NotesContext>
    {
        public Task HandleAsync(GenericRecord message, MessageContext context, NotesContext db, CancellationToken cancellationToken)
        {
            db.Add(new Note((long)message["id"]));
            return Task.CompletedTask;
        }
    }
}
