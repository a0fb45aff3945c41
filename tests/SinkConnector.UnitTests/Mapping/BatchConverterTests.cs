using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Consumer;
using SinkConnector.Mapping;
using SinkConnector.Postgres;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Mapping;

public class BatchConverterTests
{
    private static readonly MappingConfig s_mapping = MappingOf(Column("id", "value.id", "bigint"));

    /// <summary>Partition 0 and 1 interleaved, offsets counting up; every seventh message of partition 0 is not JSON.</summary>
    private static WriteBatch Fill(BatchConverter converter, int messages)
    {
        var batch = new WriteBatch();
        for (var offset = 0; offset < messages; offset++)
        {
            foreach (var partition in new[] { 0, 1 })
            {
                var slice = batch.Slice(new TopicPartition("orders", partition), epoch: 1, expectedOffset: null);
                var value = partition == 0 && offset % 7 == 3 ? "not json" : $"{{\"id\": {offset}}}";
                converter.Add(batch, slice, Message(value, partition: partition, offset: offset));
            }
        }

        return batch;
    }

    [Fact]
    public async Task Rows_and_dead_letters_keep_offset_order_per_partition_across_conversion_chunks()
    {
        var converter = new BatchConverter([s_mapping]);
        var batch = Fill(converter, 1500); // 3000 messages: several chunks of 512, the last one partial

        await converter.CompleteAsync(batch);

        var p0 = batch.Partitions[new TopicPartition("orders", 0)];
        var p1 = batch.Partitions[new TopicPartition("orders", 1)];
        Assert.Equal(Enumerable.Range(0, 1500).Where(o => o % 7 != 3).Select(o => (object)(long)o), p0.Rows.Select(r => r.Values[0]));
        Assert.Equal(Enumerable.Range(0, 1500).Select(o => (object)(long)o), p1.Rows.Select(r => r.Values[0]));
        Assert.Equal(Enumerable.Range(0, 1500).Where(o => o % 7 == 3).Select(o => (long)o), p0.DeadLetters.Select(d => d.Offset));
        Assert.Empty(p1.DeadLetters);
    }

    [Fact]
    public async Task Under_on_error_fail_a_bad_message_stops_the_sink_unless_its_partition_left_the_batch()
    {
        var converter = new BatchConverter([s_mapping with { OnError = ErrorPolicy.Fail }]);
        var batch = Fill(converter, 600);
        await Assert.ThrowsAsync<SinkStoppedException>(() => converter.CompleteAsync(batch));

        var revoked = Fill(converter, 600);
        revoked.Remove(new TopicPartition("orders", 0));
        await converter.CompleteAsync(revoked);

        Assert.Equal(600, Assert.Single(revoked.Partitions.Values).Rows.Count);
    }
}
