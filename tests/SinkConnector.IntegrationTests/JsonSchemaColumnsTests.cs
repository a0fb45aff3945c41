using System.Buffers.Binary;
using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// A json_schema mapping whose columns come from the JSON Schemas Confluent's JsonSerializer registers, through the real
/// <c>sink</c> process: the table created from the value schema with the key schema as primary key, a column added for
/// a newer schema's optional property, and a type change dead-lettered with the field and both schema ids.
/// </summary>
public sealed class JsonSchemaColumnsTests(TestServices services, AvroRegistryFixture registry) : IClassFixture<AvroRegistryFixture>
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);

    /// <summary>The message key (public, as the serializer's schema generator needs).</summary>
    public sealed class ReadingKey
    {
        public long Id { get; set; }
    }

    /// <summary>What both producer versions write (the classes stay flat: Confluent's JsonSerializer fails to validate an object of a derived class against the allOf schema it generates for it).</summary>
    public interface IReading
    {
        long Id { get; set; }

        string Body { get; set; }

        double Amount { get; set; }

        DateTimeOffset At { get; set; }

        Guid Ref { get; set; }
    }

    public sealed class Reading : IReading
    {
        public long Id { get; set; }

        public string Body { get; set; } = "";

        public double Amount { get; set; }

        public DateTimeOffset At { get; set; }

        public Guid Ref { get; set; }
    }

    /// <summary>A newer producer: an added optional property.</summary>
    public sealed class ReadingWithNote : IReading
    {
        public long Id { get; set; }

        public string Body { get; set; } = "";

        public double Amount { get; set; }

        public DateTimeOffset At { get; set; }

        public Guid Ref { get; set; }

        public string? Note { get; set; }
    }

    /// <summary>A producer the table cannot take: Amount became a string.</summary>
    public sealed class ReadingWithTextAmount
    {
        public long Id { get; set; }

        public string Amount { get; set; } = "";
    }

    [Fact]
    public async Task A_json_schema_mapping_without_columns_creates_its_table_from_the_schemas_adds_a_new_optional_property_and_dead_letters_a_type_change()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "json_schema_cols", partitions: 2);
        await bed.EnableSchemaRegistryAsync(registry.Registry.Url);
        await bed.WriteMappingAsync("events.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.readings
            format: json_schema
            mode: upsert
            auto_create: true
            auto_evolve: true
            on_error: dead_letter
            """);
        using var keys = new JsonSchemaProducerSerde<ReadingKey>(registry.Registry.Url);
        using var v1 = new JsonSchemaProducerSerde<Reading>(registry.Registry.Url);
        using var v2 = new JsonSchemaProducerSerde<ReadingWithNote>(registry.Registry.Url);
        using var v3 = new JsonSchemaProducerSerde<ReadingWithTextAmount>(registry.Registry.Url);
        var first = new List<(int, Message<byte[]?, byte[]?>)>();
        for (var id = 0; id < 40; id++)
        {
            first.Add(await MessageAsync(keys, v1, bed.Topic, id, Filled(new Reading(), id)));
        }

        await bed.ProduceAsync(bed.Topic, first);
        var (planExit, plan) = await SinkProcess.RunToEndAsync(["tables", "plan", "--config", bed.ConfigDirectory], bed.Environment);
        Assert.True(planExit == 0, plan);
        Assert.True(plan.Contains(
            "CREATE TABLE \"public\".\"readings\" (\"Id\" bigint NOT NULL, \"Body\" text, \"Amount\" double precision, " +
            "\"At\" timestamp with time zone, \"Ref\" uuid, PRIMARY KEY (\"Id\"));", StringComparison.Ordinal), plan);

        using (var sink = bed.StartSink())
        {
            await bed.WaitForCommittedAsync(40, s_catchUp, () => sink.Output);
            var later = new List<(int, Message<byte[]?, byte[]?>)>();
            for (var id = 40; id < 80; id++)
            {
                later.Add(await MessageAsync(keys, v2, bed.Topic, id, Filled(new ReadingWithNote { Note = $"n{id}" }, id)));
            }

            // Registered under another topic's subject: a registry checking compatibility would refuse it under this one.
            later.Insert(20, await MessageAsync(keys, v3, bed.Topic + "-elsewhere", 1_000, new ReadingWithTextAmount { Id = 1_000, Amount = "1.5" }));
            await bed.ProduceAsync(bed.Topic, later);
            await bed.WaitForCommittedAsync(81, s_catchUp, () => sink.Output);
            sink.Signal(SinkProcess.SIGTERM);
            await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
            Assert.True(sink.ExitCode == 0, sink.Output);
        }

        Assert.Equal(80, await bed.ScalarAsync("""SELECT count(*) FROM public.readings WHERE "Body" = 'reading ' || "Id" AND "Amount" = "Id" + 0.5"""));
        Assert.Equal(80, await bed.ScalarAsync("""SELECT count(*) FROM public.readings WHERE "At" = timestamptz '2026-01-01T00:00:00Z' + "Id" * interval '1 second' AND "Ref" IS NOT NULL"""));
        Assert.Equal(40, await bed.ScalarAsync("""SELECT count(*) FROM public.readings WHERE "Note" = 'n' || "Id" AND "Id" >= 40"""));
        var letter = Assert.Single(await bed.QueryAsync("SELECT error_kind, error_message FROM sink.dead_letters", r => (r.GetString(0), r.GetString(1))));
        Assert.Equal("IncompatibleSchema", letter.Item1);
        var textAmountId = SchemaId((await MessageAsync(keys, v3, bed.Topic + "-elsewhere", 1_000, new ReadingWithTextAmount())).Item2);
        Assert.Contains($"field 'Amount' is double precision in the table's schema id", letter.Item2, StringComparison.Ordinal);
        Assert.Contains($"and text in the message's schema id {textAmountId}", letter.Item2, StringComparison.Ordinal);
        Assert.Empty(registry.Registry.Unrouted);
    }

    private static T Filled<T>(T reading, long id)
        where T : IReading
    {
        reading.Id = id;
        reading.Body = $"reading {id}";
        reading.Amount = id + 0.5;
        reading.At = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(id);
        reading.Ref = Guid.NewGuid();
        return reading;
    }

    private static async Task<(int, Message<byte[]?, byte[]?>)> MessageAsync<T>(
        JsonSchemaProducerSerde<ReadingKey> keys, JsonSchemaProducerSerde<T> values, string subjectTopic, long id, T value)
        where T : class =>
        ((int)(id % 2), new Message<byte[]?, byte[]?> { Key = await keys.KeyAsync(subjectTopic, new ReadingKey { Id = id }), Value = await values.ValueAsync(subjectTopic, value) });

    private static int SchemaId(Message<byte[]?, byte[]?> message) => BinaryPrimitives.ReadInt32BigEndian(message.Value.AsSpan(1, 4));
}
