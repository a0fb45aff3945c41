using System.Text;
using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Configuration.Routing;
using SinkConnector.Mapping;
using SinkConnector.Mapping.Routing;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Routing;

public class MessageFilterTests
{
    private static readonly MappingConfig s_json = MappingOf(Column("id", "value.id", "bigint"));

    private static Condition Condition(string text)
    {
        Assert.True(ConditionParser.TryParse(text, out var condition, out var error), error);
        return condition!;
    }

    private static (FilterVerdict Verdict, ConversionError? Error) Filter(MappingConfig mapping, ConsumeResult<byte[]?, byte[]?> message)
    {
        var converter = new MessageConverter(mapping);
        var error = converter.TryFilter(message, message, out var verdict);
        return (verdict, error);
    }

    private static bool Holds(string when, ConsumeResult<byte[]?, byte[]?> message, MessageFormat format = MessageFormat.Json)
    {
        var mapping = (format == MessageFormat.Json ? s_json : MappingOf(format, Column("id", "value.id", "bigint"))) with { When = Condition(when) };
        var (verdict, error) = Filter(mapping, message);
        Assert.Null(error);
        return verdict == FilterVerdict.Take;
    }

    private static Headers Header(string name, string value) => new() { { name, Encoding.UTF8.GetBytes(value) } };

    [Theory]
    [InlineData("header.type == \"order\"", true)]
    [InlineData("header.type == \"line\"", false)]
    [InlineData("header.type != \"line\"", true)]
    [InlineData("header.type in [\"line\", \"order\"]", true)]
    [InlineData("header.type exists", true)]
    [InlineData("header.other exists", false)]
    [InlineData("header.other == \"x\"", false)]
    [InlineData("header.other != \"x\"", true)]
    [InlineData("header.other in [\"x\"]", false)]
    [InlineData("not header.other exists and header.type == \"order\"", true)]
    [InlineData("header.other exists or header.type == \"line\"", false)]
    public void Header_conditions_treat_an_absent_header_as_equal_to_nothing(string when, bool holds) =>
        Assert.Equal(holds, Holds(when, Message("{\"id\":1}", headers: Header("type", "order"))));

    [Theory]
    [InlineData("value.kind == \"a\"", true)]
    [InlineData("value.n == 1", true)]
    [InlineData("value.n == \"1.0\"", true)]
    [InlineData("value.n == 2", false)]
    [InlineData("value.flag == true", true)]
    [InlineData("value.nothing exists", false)]
    [InlineData("value.tags[1] == \"y\"", true)]
    [InlineData("value.inner.deep == \"z\"", true)]
    [InlineData("key.tenant == \"t1\"", true)]
    [InlineData("topic == \"orders\"", true)]
    [InlineData("partition == 0", true)]
    public void Value_and_key_paths_compare_text_exactly_and_numbers_by_value(string when, bool holds) =>
        Assert.Equal(holds, Holds(when, Message(
            "{\"id\":1,\"kind\":\"a\",\"n\":1.0,\"flag\":true,\"nothing\":null,\"tags\":[\"x\",\"y\"],\"inner\":{\"deep\":\"z\"}}",
            key: "{\"tenant\":\"t1\"}")));

    [Fact]
    public void A_plain_text_key_is_its_text()
    {
        Assert.True(Holds("key == \"order-17\"", Message("{\"id\":1}", key: "order-17")));
        Assert.False(Holds("key.id exists", Message("{\"id\":1}", key: "order-17")));
    }

    [Fact]
    public void Debezium_conditions_read_the_row_image_and_the_source_block()
    {
        const string update = """{"op":"u","before":{"id":1},"after":{"id":1,"kind":"b"},"source":{"table":"orders","db":"shop"}}""";
        const string delete = """{"op":"d","before":{"id":1,"kind":"a"},"after":null,"source":{"table":"lines"}}""";

        Assert.True(Holds("source.table == \"orders\" and value.kind == \"b\"", Message(update), MessageFormat.Debezium));
        Assert.True(Holds("source.table == \"lines\" and value.kind == \"a\"", Message(delete), MessageFormat.Debezium));
    }

    [Fact]
    public void Skip_when_leaves_out_what_when_takes()
    {
        var mapping = s_json with { When = Condition("header.type exists"), SkipWhen = Condition("value.test == true") };

        Assert.Equal(FilterVerdict.Take, Filter(mapping, Message("{\"id\":1}", headers: Header("type", "a"))).Verdict);
        Assert.Equal(FilterVerdict.SkipWhen, Filter(mapping, Message("{\"id\":1,\"test\":true}", headers: Header("type", "a"))).Verdict);
        Assert.Equal(FilterVerdict.NotWhen, Filter(mapping, Message("{\"id\":1,\"test\":true}")).Verdict);
    }

    [Fact]
    public void A_value_path_on_a_value_that_is_not_json_is_the_message_error_not_a_skip()
    {
        var (_, error) = Filter(s_json with { When = Condition("value.kind == \"a\"") }, Message("not json"));

        Assert.NotNull(error);
        Assert.Equal(ConversionErrorKind.InvalidJson, error.Kind);
        Assert.StartsWith("when: value is not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_condition_does_not_read_the_value()
    {
        Assert.False(Holds("header.type == \"a\"", Message("not json")));
    }
}
