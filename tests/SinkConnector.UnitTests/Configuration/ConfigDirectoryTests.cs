using SinkConnector.Configuration;
using SinkConnector.Configuration.Loading;

namespace SinkConnector.UnitTests.Configuration;

public sealed class ConfigDirectoryTests : IDisposable
{
    private readonly TempConfigDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Unset_environment_variable_is_reported_with_file_key_and_name()
    {
        _dir.Write("sink.yaml", TempConfigDirectory.ValidSink.Replace("localhost:9092", "${KAFKA_BOOTSTRAP}", StringComparison.Ordinal));

        var e = _dir.LoadFails();

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, "kafka.bootstrap_servers", "environment variable KAFKA_BOOTSTRAP is not set");
    }

    [Fact]
    public void Environment_variables_are_expanded_in_both_files_with_defaults_and_escapes()
    {
        _dir.Environment["KAFKA_BOOTSTRAP"] = "broker:9092";
        _dir.Environment["TABLE_SCHEMA"] = "sales";
        _dir.Write("sink.yaml", """
            name: ${SINK_NAME:-orders-sink}
            kafka:
              bootstrap_servers: ${KAFKA_BOOTSTRAP}
            postgres:
              connection_string: "Host=x;Password=$${literal}"
            """);
        _dir.Write("mappings/orders.yaml", TempConfigDirectory.ValidMapping.Replace("public.orders", "${TABLE_SCHEMA}.orders", StringComparison.Ordinal));

        var config = _dir.Load();

        Assert.Equal("orders-sink", config.Connector.Name);
        Assert.Equal("broker:9092", config.Connector.Kafka.BootstrapServers);
        Assert.Equal("Host=x;Password=${literal}", config.Connector.Postgres.ConnectionString);
        Assert.Equal(new TableName("sales", "orders"), config.Mappings[0].Table);
    }

    [Fact]
    public void Topic_read_by_two_mapping_files_loads_both_mappings()
    {
        _dir.Write("mappings/orders_copy.yaml", TempConfigDirectory.ValidMapping.Replace("topic: orders", "topics: [payments, orders]", StringComparison.Ordinal));

        var config = _dir.Load();

        Assert.Equal(["orders", "orders_copy"], config.Mappings.Where(m => m.Topics.Contains("orders")).Select(m => m.Name));
    }

    [Fact]
    public void Mapping_files_whose_names_differ_only_by_extension_are_rejected()
    {
        var yml = _dir.Write("mappings/orders.yml", TempConfigDirectory.ValidMapping.Replace("topic: orders", "topic: other", StringComparison.Ordinal));

        var e = _dir.LoadFails();

        var error = ConfigAssert.HasOnlyError(e, yml, "", "mapping name 'orders' is also used by");
        Assert.Contains(_dir.MappingFile("orders.yaml"), error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Mapping_files_are_read_in_name_order_from_yaml_and_yml()
    {
        _dir.Write("mappings/a.yml", TempConfigDirectory.ValidMapping.Replace("topic: orders", "topic: a", StringComparison.Ordinal));
        _dir.Write("mappings/z.yaml", TempConfigDirectory.ValidMapping.Replace("topic: orders", "topic: z", StringComparison.Ordinal));
        _dir.Write("mappings/README.md", "not a mapping");

        var names = _dir.Load().Mappings.Select(m => m.Name);

        Assert.Equal(["a", "orders", "z"], names);
    }

    [Fact]
    public void Missing_mappings_directory_is_reported()
    {
        Directory.Delete(Path.Combine(_dir.Root, "mappings"), recursive: true);

        ConfigAssert.HasOnlyError(_dir.LoadFails(), Path.Combine(_dir.Root, "mappings"), "", "mappings directory not found");
    }

    [Fact]
    public void Empty_mappings_directory_is_reported()
    {
        _dir.Delete("mappings/orders.yaml");

        ConfigAssert.HasOnlyError(_dir.LoadFails(), Path.Combine(_dir.Root, "mappings"), "", "no mapping files");
    }

    [Fact]
    public void Missing_config_directory_is_reported()
    {
        var missing = Path.Combine(_dir.Root, "nope");

        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(missing, _ => null));

        ConfigAssert.HasOnlyError(e, missing, "", "configuration directory not found");
    }

    [Fact]
    public void A_config_path_naming_a_file_says_it_must_be_the_directory()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(_dir.SinkFile, _ => null));

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, "", "is a file; the configuration must be the directory that holds sink.yaml and mappings/");
    }

    [Fact]
    public void A_tab_used_for_indentation_is_reported_at_its_line()
    {
        _dir.Write("sink.yaml", "name: s\nkafka:\n\tbootstrap_servers: b:9092\npostgres:\n  connection_string: Host=x\n");

        var e = _dir.LoadFails();

        var error = ConfigAssert.HasOnlyError(e, _dir.SinkFile, "", "YAML syntax error at line 3, column 1");
        Assert.Contains("tab", error.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Every_problem_in_every_file_is_reported_in_one_exception()
    {
        _dir.Write("sink.yaml", """
            name: orders-sink
            kafka:
              bootstrap_servers: ${KAFKA_BOOTSTRAP}
              group_idd: x
            postgres:
              connection_string: Host=x
            batch:
              max_bytes: lots
            """);
        var orders = _dir.Write("mappings/orders.yaml", """
            topic: orders
            table: public.orders
            mode: upsert
            key: [order_id]
            columns:
              id: { from: value.id, type: bigint }
              id: { from: value.id, type: bigint }
              amount: { from: value.amount, type: "numeric(2,5)" }
            """);
        var payments = _dir.Write("mappings/payments.yaml", """
            topics: [payments, orders]
            table: public.payments
            columns:
              paid_at: { type: timestamptz }
              src: { from: source.ts_ms, type: bigint }
            """);
        var broken = _dir.Write("mappings/refunds.yaml", "topic: refunds\ncolumns: { a: [\n");

        var e = _dir.LoadFails();

        ConfigAssert.HasError(e, _dir.SinkFile, "kafka.bootstrap_servers", "KAFKA_BOOTSTRAP is not set");
        ConfigAssert.HasError(e, _dir.SinkFile, "kafka.group_idd", "unknown key");
        ConfigAssert.HasError(e, _dir.SinkFile, "batch.max_bytes", "expected a size");
        ConfigAssert.HasError(e, orders, "columns.id", "duplicate column");
        ConfigAssert.HasError(e, orders, "key[0]", "column 'order_id' is not declared");
        ConfigAssert.HasError(e, orders, "columns.amount.type", "numeric(p,s)");
        ConfigAssert.HasError(e, payments, "columns.paid_at.from", "is required");
        ConfigAssert.HasError(e, payments, "columns.src.from", "needs format: debezium");
        ConfigAssert.HasError(e, broken, "", "YAML syntax error at line");
        Assert.Equal(9, e.Errors.Count);
        Assert.Equal(9, e.Message.Split('\n').Length);
        Assert.Contains($"{orders}: columns.id: duplicate column", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Design_example_loads_into_the_expected_settings()
    {
        _dir.Environment["KAFKA_BOOTSTRAP"] = "kafka-1:9092,kafka-2:9092";
        _dir.Environment["SINK_POSTGRES"] = "Host=pg;Username=sink;Password=secret";
        _dir.Write("sink.yaml", DesignExample.SinkYaml);
        _dir.Write("mappings/orders.yaml", DesignExample.OrdersYaml);

        var config = _dir.Load();

        Assert.Equal(_dir.Root, config.Directory);
        var connector = config.Connector;
        Assert.Equal("orders-sink", connector.Name);
        Assert.Equal("kafka-1:9092,kafka-2:9092", connector.Kafka.BootstrapServers);
        Assert.Equal("orders-sink", connector.Kafka.GroupId);
        Assert.Equal(AutoOffsetReset.Earliest, connector.Kafka.AutoOffsetReset);
        Assert.Empty(connector.Kafka.Properties);
        Assert.Equal("Host=pg;Username=sink;Password=secret", connector.Postgres.ConnectionString);
        Assert.Equal("sink", connector.Postgres.Schema);
        Assert.Equal(new BatchSettings { MaxRows = 10_000, MaxBytes = 16 * 1024 * 1024, MaxLatency = TimeSpan.FromMilliseconds(200) }, connector.Batch);
        Assert.Equal(TimeSpan.FromSeconds(30), connector.ShutdownGrace);
        Assert.Equal(new HttpSettings("127.0.0.1:8080"), connector.Http);

        var mapping = Assert.Single(config.Mappings);
        Assert.Equal("orders", mapping.Name);
        Assert.Equal(_dir.MappingFile("orders.yaml"), mapping.File);
        Assert.Equal(["orders"], mapping.Topics);
        Assert.Equal(new TableName("public", "orders"), mapping.Table);
        Assert.Equal(MessageFormat.Json, mapping.Format);
        Assert.Equal(WriteMode.Insert, mapping.Mode);
        Assert.Equal(["id"], mapping.Key);
        Assert.False(mapping.DeleteOnTombstone);
        Assert.Equal(ErrorPolicy.DeadLetter, mapping.OnError);

        string[] expected =
        [
            "id value.id bigint False -",
            "customer_id value.customer.id uuid False -",
            "amount value.amount numeric(12,2) False -",
            "status value.status text False new",
            "created_at value.created_at timestamp with time zone False -",
            "payload value jsonb False -",
            "src_key key text False -",
            "trace_id header.trace-id text True -",
            "kafka_offset offset bigint False -",
        ];
        Assert.Equal(expected, mapping.Columns.Select(c => $"{c.Name} {c.From} {c.Type} {c.Nullable} {c.Default ?? "-"}"));
        Assert.Equal("trace-id", mapping.Columns[7].From.HeaderName);
    }

    [Fact]
    public void Config_error_formats_as_file_key_reason()
    {
        Assert.Equal("/c/m.yaml: columns.amount.type: unknown type", new ConfigError("/c/m.yaml", "columns.amount.type", "unknown type").ToString());
        Assert.Equal("/c/sink.yaml: file not found", new ConfigError("/c/sink.yaml", "", "file not found").ToString());
    }
}
