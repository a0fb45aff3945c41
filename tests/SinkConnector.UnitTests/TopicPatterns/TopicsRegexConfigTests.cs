using SinkConnector.Configuration;
using SinkConnector.UnitTests.Configuration;

namespace SinkConnector.UnitTests.TopicPatterns;

public sealed class TopicsRegexConfigTests : IDisposable
{
    private const string Columns = """
        columns:
          id: { from: value.id, type: bigint }
        """;

    private readonly TempConfigDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_topics_regex_mapping_with_a_template_resolves_each_matching_topic_to_its_own_table()
    {
        _dir.Write("mappings/orders.yaml", "topics_regex: 'shop\\.(?<kind>[a-z]+)'\ntable: sales.shop_{kind}\nauto_create: true\n" + Columns);

        var mapping = Assert.Single(_dir.Load().Mappings);

        Assert.Empty(mapping.Topics);
        Assert.Equal("^(shop\\.([a-z]+))$", mapping.TopicsRegex!.Subscription);
        var orders = mapping.ForTopic("shop.orders")!;
        Assert.Equal(["shop.orders"], orders.Topics);
        Assert.Equal(new TableName("sales", "shop_orders"), orders.Table);
        Assert.True(orders.TableFromTemplate);
        Assert.Null(mapping.ForTopic("shop.orders.v2"));
        Assert.Null(mapping.ForTopic("other"));
    }

    [Fact]
    public void Operator_commands_see_one_mapping_per_existing_matching_topic()
    {
        _dir.Write("mappings/orders.yaml", "topics_regex: 'shop\\..*'\ntable: 'x_{topic}'\n" + Columns);

        var expanded = _dir.Load().Mappings.ForExistingTopics(["shop.b", "other", "shop.a"]);

        Assert.Equal(["x_shop_a", "x_shop_b"], expanded.Select(m => m.Table.Name));
        Assert.True(expanded.Reads("shop.a"));
        Assert.False(expanded.Reads("other"));
    }

    [Fact]
    public void Topics_regex_is_exclusive_with_topic_and_topics()
    {
        var file = _dir.Write("mappings/orders.yaml", "topic: a\ntopics_regex: 'a.*'\ntable: public.t\n" + Columns);

        ConfigAssert.HasOnlyError(_dir.LoadFails(), file, "topics_regex", "set one of topic, topics or topics_regex");
    }

    [Fact]
    public void A_regex_librdkafka_cannot_take_names_file_key_and_reason()
    {
        var file = _dir.Write("mappings/orders.yaml", "topics_regex: 'shop\\.\\d+'\ntable: public.t\n" + Columns);

        ConfigAssert.HasOnlyError(_dir.LoadFails(), file, "topics_regex", "'\\d' is not POSIX ERE");
    }

    [Fact]
    public void A_group_named_by_a_number_is_refused_naming_file_key_and_the_collision_with_template_group_numbers()
    {
        var file = _dir.Write("mappings/orders.yaml", "topics_regex: '(?<2>[a-z]+)\\.([a-z]+)'\ntable: public.t_{1}\n" + Columns);

        ConfigAssert.HasOnlyError(_dir.LoadFails(), file, "topics_regex",
            "'(?<2>[a-z]+)\\.([a-z]+)' numbers its group (2) explicitly, which collides with the numbers {1}, {2}, ... table templates give the unnamed groups; name it with a letter first, e.g. (?<part2>...)");
    }

    [Fact]
    public void A_template_without_topics_regex_or_with_an_unknown_group_is_refused()
    {
        var file = _dir.Write("mappings/orders.yaml", "topic: a\ntable: public.t_{topic}\n" + Columns);
        ConfigAssert.HasOnlyError(_dir.LoadFails(), file, "table", "has placeholders, which only a topics_regex mapping can fill");

        file = _dir.Write("mappings/orders.yaml", "topics_regex: 'a(.*)'\ntable: public.t_{2}\n" + Columns);
        ConfigAssert.HasOnlyError(_dir.LoadFails(), file, "table", "{2} is neither {topic} nor a group");
    }

    [Fact]
    public void An_environment_variable_in_a_template_is_replaced_not_taken_for_a_placeholder()
    {
        _dir.Environment["TABLE_SCHEMA"] = "sales";
        _dir.Write("mappings/orders.yaml", "topics_regex: 'shop\\..*'\ntable: '${TABLE_SCHEMA}.t_{topic}'\n" + Columns);

        var mapping = Assert.Single(_dir.Load().Mappings);

        Assert.Equal(new TableName("sales", "t_shop_a"), mapping.ForTopic("shop.a")!.Table);
    }

    [Fact]
    public void A_template_with_partition_is_refused_at_load_naming_the_per_topic_mapping_to_write_instead()
    {
        var file = _dir.Write("mappings/orders.yaml", """
            topics_regex: 'a.*'
            table: public.t_{topic}
            partition: { by: created_at, interval: 1 day, ahead: 2 }
            auto_create: true
            columns:
              id: { from: value.id, type: bigint }
              created_at: { from: value.created_at, type: timestamptz }
            """);

        ConfigAssert.HasOnlyError(_dir.LoadFails(), file, "partition",
            "cannot be combined with a table template yet: partitions are created and kept ahead per table from startup, " +
            "while a template's tables appear with their topics. Write one mapping per topic (topic: and a fixed table:) with partition:");
    }

    [Theory]
    [InlineData("table: public.t_{topic}\ncolumns_from_schema: true")]
    [InlineData("table: public.events")]
    public void Topics_regex_with_columns_from_schema_is_refused_at_load_also_when_an_avro_mapping_defaults_to_it(string rest)
    {
        _dir.Write("sink.yaml", TempConfigDirectory.ValidSink + "\nschema_registry:\n  url: http://registry:8081\n");
        var file = _dir.Write("mappings/orders.yaml", $"topics_regex: 'shop\\..*'\nformat: avro\nauto_create: true\n{rest}\n");

        ConfigAssert.HasOnlyError(_dir.LoadFails(), file, "columns_from_schema",
            "cannot be combined with topics_regex yet: columns are derived at startup from the <topic>-value schema of the mapping's topics, " +
            "while each topic of a regex has its own subject (and may not exist yet). List the columns under columns:, or write one mapping per topic (topic:) with columns_from_schema");
    }

    [Fact]
    public void A_regex_subscription_refreshes_metadata_every_10_s_unless_the_user_set_it()
    {
        var settings = _dir.Load().Connector;
        Assert.Equal(10_000, ConsumerSettings.Build(settings, subscribesByPattern: true).TopicMetadataRefreshIntervalMs);
        Assert.Null(ConsumerSettings.Build(settings).TopicMetadataRefreshIntervalMs);

        var user = settings with { Kafka = settings.Kafka with { Properties = new Dictionary<string, string> { ["topic.metadata.refresh.interval.ms"] = "60000" } } };
        Assert.Equal(60_000, ConsumerSettings.Build(user, subscribesByPattern: true).TopicMetadataRefreshIntervalMs);
    }
}
