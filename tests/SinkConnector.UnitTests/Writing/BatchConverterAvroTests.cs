using Avro;
using Avro.Generic;
using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Engine;
using SinkConnector.Failures;
using SinkConnector.Mapping;
using SinkConnector.Registry;
using SinkConnector.Testing;
using SinkConnector.Writing;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Writing;

/// <summary>
/// Batch conversion of Avro messages: a chunk's schema ids are fetched (awaited) before it converts, so no conversion
/// thread waits on the registry; a registry that does not answer fails the chunk as the transient failure.
/// </summary>
public sealed class BatchConverterAvroTests : IAsyncLifetime
{
    private static readonly RecordSchema s_schema = (RecordSchema)Avro.Schema.Parse("""
        {"type": "record", "name": "Order", "fields": [{"name": "id", "type": "long"}, {"name": "note", "type": "string"}]}
        """);

    private static readonly MappingConfig s_mapping = MappingOf(Column("id", "value.id", "bigint"), Column("note", "value.note", "text"))
        with { ValueEncoding = PayloadEncoding.Avro };

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

    private async Task<byte[]> OrderAsync(long id)
    {
        var record = new GenericRecord(s_schema);
        record.Add("id", id);
        record.Add("note", $"order {id}");
        return await _producer.ValueAsync("orders", record);
    }

    private async Task<WriteBatch> FillAsync(BatchConverter converter, int messages, byte[]? extra = null)
    {
        var batch = new WriteBatch(converter.NewBatch());
        var slice = batch.Slice(new TopicPartition("orders", 0), epoch: 1, expectedOffset: null);
        for (var offset = 0; offset < messages; offset++)
        {
            var message = MessageBytes(await OrderAsync(offset), offset: offset);
            batch.Content.Add(slice, message, RowSize.EstimateBytes(message));
        }

        if (extra is not null)
        {
            var message = MessageBytes(extra, offset: messages);
            batch.Content.Add(slice, message, RowSize.EstimateBytes(message));
        }

        return batch;
    }

    private static int GetsById(SchemaRegistryStandIn registry) => registry.Requests.Count(r => r.StartsWith("GET /schemas/ids/", StringComparison.Ordinal));

    [Fact]
    public async Task A_chunk_fetches_its_schema_ids_once_before_converting_and_an_unknown_id_is_a_dead_letter()
    {
        var converter = new BatchConverter([s_mapping], _schemas);
        var batch = await FillAsync(converter, 1200, extra: [0, 0, 0, 0, 99, 2]);

        await ((ConvertedBatch)batch.Content).CompleteAsync(batch);

        var partition = Assert.Single(batch.Partitions.Values);
        Assert.Equal(1200, ((ConvertedBatch)batch.Content).RowsOf(partition).Count);
        Assert.Contains("schema id 99 is not in the schema registry", Assert.Single(partition.DeadLetters).ErrorMessage, StringComparison.Ordinal);
        // Id 1 once, id 99 once (then remembered as unknown), whatever the number of chunks (1201 messages: three).
        Assert.Equal(2, GetsById(_registry));
    }

    [Fact]
    public async Task A_registry_that_does_not_answer_fails_the_chunk_with_the_transient_failure_and_dead_letters_nothing()
    {
        var converter = new BatchConverter([s_mapping], _schemas);
        var batch = await FillAsync(converter, 10);
        _registry.Reachable = false;

        var e = await Assert.ThrowsAsync<SchemaRegistryUnavailableException>(() => ((ConvertedBatch)batch.Content).CompleteAsync(batch));

        Assert.Contains("did not answer for schema id", e.Message, StringComparison.Ordinal);
        Assert.Empty(Assert.Single(batch.Partitions.Values).DeadLetters);
    }

    [Fact]
    public async Task A_chunk_that_failed_on_the_registry_keeps_its_messages_and_converts_them_all_once_it_answers()
    {
        var converter = new BatchConverter([s_mapping], _schemas);
        var batch = await FillAsync(converter, 10);
        _registry.Reachable = false;
        await Assert.ThrowsAsync<SchemaRegistryUnavailableException>(() => ((ConvertedBatch)batch.Content).CompleteAsync(batch));

        _registry.Reachable = true;
        await ((ConvertedBatch)batch.Content).CompleteAsync(batch);

        var partition = Assert.Single(batch.Partitions.Values);
        Assert.Equal(Enumerable.Range(0, 10).Select(o => (long)o), ((ConvertedBatch)batch.Content).RowsOf(partition).Select(r => r.Source.Offset.Value));
        Assert.Empty(partition.DeadLetters);
    }

    [Fact]
    public async Task After_FetchAsync_the_schema_is_served_without_the_registry()
    {
        var value = await OrderAsync(1);
        await _schemas.FetchAsync([1, 1], TestContext.Current.CancellationToken);
        _registry.Reachable = false;

        Assert.Equal("AVRO", _schemas.Get(1)?.Type);
        Assert.Equal(1, GetsById(_registry));
        Assert.NotNull(value);
    }
}
