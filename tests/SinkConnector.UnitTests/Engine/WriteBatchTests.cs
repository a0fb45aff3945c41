using Confluent.Kafka;
using SinkConnector.Engine;

namespace SinkConnector.UnitTests.Engine;

public class WriteBatchTests
{
    private static readonly TopicPartition s_p0 = new("orders", 0);
    private static readonly TopicPartition s_p1 = new("orders", 1);

    [Fact]
    public void A_slice_keeps_the_expected_offset_of_its_first_message()
    {
        var batch = new WriteBatch(new RecordingContent());
        var first = batch.Slice(s_p0, epoch: 3, expectedOffset: 100);
        var again = batch.Slice(s_p0, epoch: 3, expectedOffset: 101);

        Assert.Same(first, again);
        Assert.Equal(100, again.ExpectedOffset);
        Assert.Equal(3, again.Epoch);
    }

    [Fact]
    public void Removing_a_fenced_partition_takes_its_messages_out_of_the_batch_limits()
    {
        var batch = new WriteBatch(new RecordingContent());
        var p0 = batch.Slice(s_p0, 1, null);
        var p1 = batch.Slice(s_p1, 1, 7);
        batch.Count(p0, 100);
        batch.Count(p0, 100);
        batch.Count(p1, 50);

        batch.Remove(s_p0);

        Assert.Equal(1, batch.Messages);
        Assert.Equal(50, batch.Bytes);
        Assert.False(batch.IsEmpty);
        batch.Remove(s_p1);
        Assert.True(batch.IsEmpty);
        Assert.Equal(0, batch.Messages);
    }
}
