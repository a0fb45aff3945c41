using Avro;
using Avro.Generic;
using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Engine;
using SinkConnector.Mapping;
using SinkConnector.Mapping.SchemaColumns;
using SinkConnector.Registry;
using SinkConnector.Testing;
using SinkConnector.Writing;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Writing;

/// <summary>
/// A mapping with columns from the schema converting a batch whose messages were written with newer schema versions
/// (Confluent's AvroSerializer against the registry stand-in): which version of the mapping each row is converted with.
/// </summary>
public sealed class SchemaColumnsEvolutionTests : IAsyncLifetime
{
    private const string V1 = """
        {"type": "record", "name": "Reading", "namespace": "t", "fields": [{"name": "id", "type": "long"}, {"name": "amount", "type": "double"}]}
        """;

    private static readonly RecordSchema s_v1 = (RecordSchema)Avro.Schema.Parse(V1);
    private static readonly RecordSchema s_v2 = (RecordSchema)Avro.Schema.Parse(V1.Replace(
        """{"name": "amount", "type": "double"}""", """{"name": "amount", "type": "double"}, {"name": "note", "type": ["null", "string"], "default": null}""", StringComparison.Ordinal));

    private static readonly RecordSchema s_v3 = (RecordSchema)Avro.Schema.Parse(V1.Replace("\"double\"", "\"float\"", StringComparison.Ordinal));

    private SchemaRegistryStandIn _registry = null!;
    private AvroProducerSerde _producer = null!;
    private SchemaSource _schemas = null!;

    public ValueTask InitializeAsync()
    {
        _registry = SchemaRegistryStandIn.Start();
        _producer = new AvroProducerSerde(_registry.Url);
        _schemas = SchemaRegistryClients.Create(new SchemaRegistrySettings { Urls = [_registry.Url], RequestTimeout = TimeSpan.FromSeconds(2) });
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _schemas.Dispose();
        _producer.Dispose();
        await _registry.DisposeAsync();
    }

    private async Task<ConsumeResult<byte[]?, byte[]?>> ReadingAsync(RecordSchema schema, long id, long offset, string subjectTopic = "readings")
    {
        var record = new GenericRecord(schema);
        record.Add("id", id);
        record.Add("amount", schema["amount"].Schema.Tag == Avro.Schema.Type.Float ? (object)(float)id : (double)id);
        if (schema.TryGetField("note", out _))
        {
            record.Add("note", $"n{id}");
        }

        return MessageBytes(await _producer.ValueAsync(subjectTopic, record), topic: "readings", offset: offset);
    }

    private async Task<(WriteBatch Batch, PartitionSlice Slice)> ConvertAsync(bool autoEvolve, params ConsumeResult<byte[]?, byte[]?>[] messages)
    {
        var mapping = MappingOf() with { Topics = ["readings"], ValueEncoding = PayloadEncoding.Avro, ColumnsFromSchema = true, AutoEvolve = autoEvolve, Columns = [] };
        var resolved = Assert.Single(await SchemaColumnResolver.ResolveAsync([mapping], _schemas, CancellationToken.None));
        var converter = new BatchConverter([resolved], _schemas);
        var batch = new WriteBatch(converter.NewBatch());
        var slice = batch.Slice(new TopicPartition("readings", 0), epoch: 1, expectedOffset: null);
        foreach (var message in messages)
        {
            batch.Content.Add(slice, message, RowSize.EstimateBytes(message));
        }

        await ((ConvertedBatch)batch.Content).CompleteAsync(batch);
        return (batch, slice);
    }

    [Fact]
    public async Task With_auto_evolve_a_v2_message_adds_its_optional_column_and_later_v1_messages_convert_with_it_too()
    {
        // v2 registered under another subject: the subject's newest schema, the columns at startup, stays v1.
        var v1 = await ReadingAsync(s_v1, 1, 0);
        var v2 = await ReadingAsync(s_v2, 2, 1, "elsewhere");
        var again = await ReadingAsync(s_v1, 3, 2);
        var (batch, slice) = await ConvertAsync(autoEvolve: true, v1, v2, again);

        var rows = ((ConvertedBatch)batch.Content).RowsOf(slice);
        Assert.Equal([["id", "amount"], ["id", "amount", "note"], ["id", "amount", "note"]], rows.Select(r => r.Mapping.Columns.Select(c => c.Name).ToArray()));
        Assert.True(rows[1].Mapping.Columns[2].Nullable);
        Assert.Empty(slice.DeadLetters);
    }

    [Fact]
    public async Task Without_auto_evolve_a_new_optional_field_is_ignored_and_a_type_change_is_a_dead_letter_naming_the_field_and_both_ids()
    {
        var v1 = await ReadingAsync(s_v1, 1, 0);
        var v2 = await ReadingAsync(s_v2, 2, 1, "elsewhere");
        var v3 = await ReadingAsync(s_v3, 3, 2, "elsewhere");
        var (batch, slice) = await ConvertAsync(autoEvolve: false, v1, v2, v3);

        var rows = ((ConvertedBatch)batch.Content).RowsOf(slice);
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal(["id", "amount"], r.Mapping.Columns.Select(c => c.Name)));
        var letter = Assert.Single(slice.DeadLetters);
        Assert.Equal("IncompatibleSchema", letter.ErrorKind);
        var v1Id = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(v1.Message.Value.AsSpan(1, 4));
        var v3Id = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(v3.Message.Value.AsSpan(1, 4));
        Assert.Contains($"field 'amount' is double precision in the table's schema id {v1Id} and real in the message's schema id {v3Id}", letter.ErrorMessage, StringComparison.Ordinal);
    }
}
