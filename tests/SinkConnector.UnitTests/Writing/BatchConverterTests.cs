using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Engine;
using SinkConnector.Failures;
using SinkConnector.Mapping;
using SinkConnector.Writing;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Writing;

public class BatchConverterTests
{
    private static readonly MappingConfig s_mapping = MappingOf(Column("id", "value.id", "bigint"));

    /// <summary>As the consumer loop adds a message: with its size for the batch limits.</summary>
    private static void Add(WriteBatch batch, PartitionSlice slice, ConsumeResult<byte[]?, byte[]?> message) =>
        batch.Content.Add(slice, message, RowSize.EstimateBytes(message));

    private static Task CompleteAsync(WriteBatch batch) => ((ConvertedBatch)batch.Content).CompleteAsync(batch);

    private static List<RowChange> Rows(WriteBatch batch, PartitionSlice slice) => ((ConvertedBatch)batch.Content).RowsOf(slice);

    /// <summary>Partition 0 and 1 interleaved, offsets counting up; every seventh message of partition 0 is not JSON.</summary>
    private static WriteBatch Fill(BatchConverter converter, int messages)
    {
        var batch = new WriteBatch(converter.NewBatch());
        for (var offset = 0; offset < messages; offset++)
        {
            foreach (var partition in new[] { 0, 1 })
            {
                var slice = batch.Slice(new TopicPartition("orders", partition), epoch: 1, expectedOffset: null);
                var value = partition == 0 && offset % 7 == 3 ? "not json" : $"{{\"id\": {offset}}}";
                Add(batch, slice, Message(value, partition: partition, offset: offset));
            }
        }

        return batch;
    }

    [Fact]
    public async Task Rows_and_dead_letters_keep_offset_order_per_partition_across_conversion_chunks()
    {
        var converter = new BatchConverter([s_mapping]);
        var batch = Fill(converter, 1500); // 3000 messages: several chunks of 512, the last one partial

        await CompleteAsync(batch);

        var p0 = batch.Partitions[new TopicPartition("orders", 0)];
        var p1 = batch.Partitions[new TopicPartition("orders", 1)];
        Assert.Equal(Enumerable.Range(0, 1500).Where(o => o % 7 != 3).Select(o => (long)o), Rows(batch, p0).Select(r => r.Source.Offset.Value));
        Assert.Equal(Enumerable.Range(0, 1500).Select(o => (long)o), Rows(batch, p1).Select(r => r.Source.Offset.Value));
        Assert.Equal(Enumerable.Range(0, 1500).Where(o => o % 7 == 3).Select(o => (long)o), p0.DeadLetters.Select(d => d.Offset));
        Assert.Empty(p1.DeadLetters);
    }

    [Fact]
    public async Task A_converted_chunk_lets_go_of_its_consumed_messages_while_its_rows_and_dead_letters_keep_what_they_need()
    {
        var converter = new BatchConverter([s_mapping]);
        var slice = new PartitionSlice(new TopicPartition("orders", 0), epoch: 1, expectedOffset: null);
        ConsumedMessage[] chunk =
        [
            new(slice, Message("{\"id\": 1}", key: "k-1", offset: 10)),
            new(slice, Message("not json", key: "k-2", offset: 11)),
        ];

        var converted = await converter.StartChunk(chunk, bytes: 64);

        // Held until the commit, the messages would be promoted out of gen0 and copied by every collection on the way.
        Assert.All(chunk, m => Assert.Null(m.Message));
        var row = Assert.Single(converted.Outcomes, o => o.Row is not null).Row!.Value;
        Assert.Equal((10L, "k-1"), (row.Source.Offset.Value, System.Text.Encoding.UTF8.GetString(row.Source.Message.Key!)));
        var deadLetter = Assert.Single(converted.Outcomes, o => o.DeadLetter is not null).DeadLetter!;
        Assert.Equal((11L, "not json"), (deadLetter.Offset, System.Text.Encoding.UTF8.GetString(deadLetter.Value!)));
    }

    [Fact]
    public async Task Under_on_error_fail_a_bad_message_stops_the_sink_unless_its_partition_left_the_batch()
    {
        var converter = new BatchConverter([s_mapping with { OnError = ErrorPolicy.Fail }]);
        var batch = Fill(converter, 600);
        await Assert.ThrowsAsync<SinkStoppedException>(() => CompleteAsync(batch));

        var revoked = Fill(converter, 600);
        revoked.Remove(new TopicPartition("orders", 0));
        await CompleteAsync(revoked);

        Assert.Equal(600, Rows(revoked, Assert.Single(revoked.Partitions.Values)).Count);
    }

    [Fact]
    public async Task Insert_rows_leave_conversion_as_copy_tuples_with_a_copy_of_their_message_for_a_dead_letter()
    {
        var converter = new BatchConverter([s_mapping]);
        var batch = new WriteBatch(converter.NewBatch());
        var slice = batch.Slice(new TopicPartition("orders", 3), epoch: 1, expectedOffset: null);
        var timestamp = new Timestamp(1_700_000_000_123, TimestampType.CreateTime);
        Add(batch, slice, Message("{\"id\": 258}", key: "k-258", headers: [new Header("trace", [1, 2])], partition: 3, offset: 41, timestamp: timestamp));
        Add(batch, slice, Message("{\"id\": 259}", partition: 3, offset: 42));

        await CompleteAsync(batch);

        var (first, second) = (Rows(batch, slice)[0], Rows(batch, slice)[1]);
        Assert.Empty(first.Values);
        Assert.Null(first.Message);
        // Field count 1, length 8, bigint 258 big-endian.
        Assert.Equal<byte>([0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2], first.Encoded!.Value.Tuple.ToArray());
        var source = first.Source;
        Assert.Equal(("orders", 3, 41L, timestamp), (source.Topic, source.Partition.Value, source.Offset.Value, source.Message.Timestamp));
        Assert.Equal("k-258"u8.ToArray(), source.Message.Key);
        Assert.Equal("{\"id\": 258}"u8.ToArray(), source.Message.Value);
        Assert.Equal([("trace", new byte[] { 1, 2 })], source.Message.Headers.Select(h => (h.Key, h.GetValueBytes())));
        Assert.Null(second.Source.Message.Key);
        Assert.Empty(second.Source.Message.Headers ?? []);
        Assert.Equal(42L, second.Source.Offset.Value);
    }

    [Fact]
    public async Task Upsert_writes_are_encoded_too_but_keep_their_key_values_for_the_merge_by_key()
    {
        var mapping = MappingOf(Column("id", "value.id", "bigint"), Column("name", "value.name", "text")) with { Mode = WriteMode.Upsert, Key = ["id"] };
        var converter = new BatchConverter([mapping]);
        var batch = new WriteBatch(converter.NewBatch());
        var slice = batch.Slice(new TopicPartition("orders", 0), epoch: 1, expectedOffset: null);
        Add(batch, slice, Message("{\"id\": 7, \"name\": \"x\"}"));

        await CompleteAsync(batch);

        var row = Assert.Single(Rows(batch, slice));
        Assert.Equal([7L, null], row.Values);
        Assert.Null(row.Message);
        // Two fields: bigint 7, text "x".
        Assert.Equal<byte>([0, 2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, (byte)'x'], row.Encoded!.Value.Tuple.ToArray());
    }

    [Fact]
    public void Only_a_topic_read_by_several_mappings_makes_a_partitions_rows_mix_mappings()
    {
        var payments = s_mapping with { Name = "payments", Topics = ["payments"], Table = new TableName("public", "payments") };
        var audit = s_mapping with { Name = "audit", Table = new TableName("public", "audit") };

        Assert.False(new BatchConverter([s_mapping]).SlicesMixMappings);
        Assert.False(new BatchConverter([s_mapping, payments]).SlicesMixMappings);
        Assert.True(new BatchConverter([s_mapping, audit]).SlicesMixMappings);
    }

    [Fact]
    public async Task A_written_batch_gives_its_chunk_buffers_back_and_its_rows_can_no_longer_be_read_while_the_next_batch_reuses_them()
    {
        var converter = new BatchConverter([s_mapping]);
        var batch = new WriteBatch(converter.NewBatch());
        var slice = batch.Slice(new TopicPartition("orders", 0), epoch: 1, expectedOffset: null);
        Add(batch, slice, Message("{\"id\": 1}", offset: 1));
        await CompleteAsync(batch);
        var row = Rows(batch, slice)[0].Encoded!.Value;
        Assert.Equal<byte>([0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1], row.Tuple.ToArray());

        batch.Content.Release();
        var next = new WriteBatch(converter.NewBatch());
        var nextSlice = next.Slice(new TopicPartition("orders", 0), epoch: 1, expectedOffset: null);
        Add(next, nextSlice, Message("{\"id\": 2}", offset: 2));
        await CompleteAsync(next);

        Assert.Throws<ObjectDisposedException>(() => row.Tuple.ToArray());
        Assert.Equal<byte>([0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 2], Rows(next, nextSlice)[0].Encoded!.Value.Tuple.ToArray());
        Assert.Same(row.Chunk.Tuples.Array, Rows(next, nextSlice)[0].Encoded!.Value.Chunk.Tuples.Array);
    }
}
