using System.Text;
using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Configuration.Routing;
using SinkConnector.Engine;
using SinkConnector.Mapping;
using SinkConnector.Writing;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Routing;

public class FanOutConversionTests
{
    internal static Condition Condition(string text)
    {
        Assert.True(ConditionParser.TryParse(text, out var condition, out var error), error);
        return condition!;
    }

    internal static MappingConfig Mapping(string name, string when, int order, string column = "value.id") =>
        MappingOf(Column("id", column, "bigint")) with { Name = name, Table = new TableName("public", name), When = Condition(when), Order = order };

    internal static Headers Type(string type) => new() { { "type", Encoding.UTF8.GetBytes(type) } };

    internal static async Task<(WriteBatch Batch, PartitionSlice Slice)> ConvertAsync(BatchConverter converter, params ConsumeResult<byte[]?, byte[]?>[] messages)
    {
        var batch = new WriteBatch(converter.NewBatch());
        var slice = batch.Slice(new TopicPartition("orders", 0), epoch: 1, expectedOffset: null);
        foreach (var message in messages)
        {
            batch.Content.Add(slice, message, RowSize.EstimateBytes(message));
        }

        await ((ConvertedBatch)batch.Content).CompleteAsync(batch);
        return (batch, slice);
    }

    [Fact]
    public async Task A_message_goes_to_every_mapping_whose_when_holds_and_none_takes_an_unmatched_one()
    {
        var converter = new BatchConverter([
            Mapping("lines", "header.type == \"line\"", 2),
            Mapping("orders", "header.type == \"order\"", 1),
            Mapping("audit", "header.type in [\"order\", \"line\"]", 3),
        ]);

        var (batch, slice) = await ConvertAsync(converter,
            Message("{\"id\":1}", headers: Type("order"), offset: 0),
            Message("{\"id\":2}", headers: Type("line"), offset: 1),
            Message("{\"id\":3}", headers: Type("other"), offset: 2),
            Message("{\"id\":4}", offset: 3));

        var rows = ((ConvertedBatch)batch.Content).RowsOf(slice).Select(r => (r.Mapping.Name, r.Source.Offset.Value)).ToList();
        Assert.Equal([("orders", 0L), ("audit", 0L), ("lines", 1L), ("audit", 1L)], rows);
        Assert.Empty(slice.DeadLetters);
    }

    [Fact]
    public async Task A_message_failing_in_one_mapping_is_dead_lettered_for_it_and_written_by_the_others()
    {
        var converter = new BatchConverter([
            Mapping("orders", "header.type == \"order\"", 1),
            Mapping("order_totals", "header.type == \"order\"", 2, column: "value.total"),
        ]);

        var (batch, slice) = await ConvertAsync(converter, Message("{\"id\":1}", headers: Type("order"), offset: 7));

        Assert.Equal("orders", Assert.Single(((ConvertedBatch)batch.Content).RowsOf(slice)).Mapping.Name);
        var deadLetter = Assert.Single(slice.DeadLetters);
        Assert.Equal("order_totals", deadLetter.Mapping);
        Assert.Equal(7, deadLetter.Offset);
        Assert.Contains("value.total", deadLetter.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_order_is_by_order_then_mapping_name()
    {
        var sorted = WriteOrder.Sort([Mapping("c", "header.a exists", 0), Mapping("b", "header.a exists", 1), Mapping("a", "header.a exists", 1), Mapping("z", "header.a exists", -1)]);

        Assert.Equal(["z", "c", "a", "b"], sorted.Select(m => m.Name));
    }
}
