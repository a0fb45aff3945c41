using SinkConnector.Configuration;
using SinkConnector.Configuration.Routing;
using SinkConnector.UnitTests.Configuration;

namespace SinkConnector.UnitTests.Routing;

public sealed class RoutingConfigTests : IDisposable
{
    private readonly TempConfigDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void When_skip_when_and_order_are_read_from_a_mapping()
    {
        _dir.Write("mappings/orders.yaml", """
            topic: orders
            table: public.orders
            when: header.type == "order"
            skip_when: 'value.test == true'
            order: -2
            columns:
              id: { from: value.id, type: bigint }
            """);

        var mapping = Assert.Single(_dir.Load().Mappings);

        Assert.Equal("header.type == \"order\"", Assert.IsType<Comparison>(mapping.When).Text);
        Assert.Equal("value.test == true", Assert.IsType<Comparison>(mapping.SkipWhen).Text);
        Assert.Equal(-2, mapping.Order);
    }

    [Fact]
    public void Without_routing_keys_a_mapping_takes_every_message_at_order_zero()
    {
        var mapping = Assert.Single(_dir.Load().Mappings);

        Assert.Null(mapping.When);
        Assert.Null(mapping.SkipWhen);
        Assert.Equal(0, mapping.Order);
    }

    [Fact]
    public void A_condition_that_does_not_parse_names_file_key_and_reason()
    {
        var file = _dir.Write("mappings/orders.yaml", TempConfigDirectory.ValidMapping + "\nwhen: header.type == order\n");

        var e = _dir.LoadFails();

        ConfigAssert.HasOnlyError(e, file, "when", "'header.type == order' is not a condition: at 16: 'order' is not a literal; put text in quotes");
    }

    [Fact]
    public void Sources_a_format_does_not_have_are_refused()
    {
        var file = _dir.Write("mappings/orders.yaml", TempConfigDirectory.ValidMapping + "\nwhen: source.table == \"a\"\nskip_when: schema == \"x\"\norder: x\n");

        var e = _dir.LoadFails();

        ConfigAssert.HasError(e, file, "when", "source.table reads the Debezium envelope's source block: only for format: debezium");
        ConfigAssert.HasError(e, file, "skip_when", "schema (the writer schema's name) needs a registry encoding");
        ConfigAssert.HasError(e, file, "order", "expected an integer");
        Assert.Equal(3, e.Errors.Count);
    }
}
