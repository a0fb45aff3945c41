using SinkConnector.Configuration;

namespace SinkConnector.UnitTests.Configuration;

public sealed class SinkFileTests : IDisposable
{
    private readonly TempConfigDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private ConfigException SinkFails(string yaml)
    {
        _dir.Write("sink.yaml", yaml);
        return _dir.LoadFails();
    }

    [Fact]
    public void Defaults_apply_when_only_required_keys_are_set()
    {
        var connector = _dir.Load().Connector;

        Assert.Equal("orders-sink", connector.Name);
        Assert.Equal("orders-sink", connector.Kafka.GroupId);
        Assert.Equal(AutoOffsetReset.Earliest, connector.Kafka.AutoOffsetReset);
        Assert.Empty(connector.Kafka.Properties);
        Assert.Equal("sink", connector.Postgres.Schema);
        Assert.Equal(10_000, connector.Batch.MaxRows);
        Assert.Equal(16L * 1024 * 1024, connector.Batch.MaxBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(200), connector.Batch.MaxLatency);
        Assert.Equal(TimeSpan.FromSeconds(30), connector.ShutdownGrace);
        Assert.Null(connector.Http);
    }

    [Fact]
    public void Missing_required_keys_are_each_reported_with_their_full_path()
    {
        var e = SinkFails("batch: { max_rows: 5 }");

        ConfigAssert.HasError(e, _dir.SinkFile, "name", "is required");
        ConfigAssert.HasError(e, _dir.SinkFile, "kafka.bootstrap_servers", "is required");
        ConfigAssert.HasError(e, _dir.SinkFile, "postgres.connection_string", "is required");
        Assert.Equal(3, e.Errors.Count);
    }

    [Fact]
    public void Unknown_key_is_reported_with_its_dotted_path()
    {
        var e = SinkFails(TempConfigDirectory.ValidSink + "\nbatch:\n  max_row: 5\n");

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, "batch.max_row", "unknown key");
    }

    [Fact]
    public void Unknown_top_level_key_is_reported()
    {
        var e = SinkFails(TempConfigDirectory.ValidSink + "\nshutdown_grase: 10s\n");

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, "shutdown_grase", "unknown key");
    }

    [Fact]
    public void Bad_duration_is_reported_with_key_and_value()
    {
        var e = SinkFails(TempConfigDirectory.ValidSink + "\nbatch:\n  max_latency: 200\n");

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, "batch.max_latency", "'200': expected a duration");
    }

    [Fact]
    public void Bad_size_is_reported_with_key_and_value()
    {
        var e = SinkFails(TempConfigDirectory.ValidSink + "\nbatch:\n  max_bytes: 16M\n");

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, "batch.max_bytes", "'16M': expected a size");
    }

    [Theory]
    [InlineData("max_rows: 0", "batch.max_rows", "must be at least 1")]
    [InlineData("max_rows: 10_000", "batch.max_rows", "expected an integer")]
    [InlineData("max_rows: 1.5", "batch.max_rows", "expected an integer")]
    [InlineData("max_rows: 99999999999", "batch.max_rows", "expected an integer")]
    [InlineData("max_latency: 0s", "batch.max_latency", "must be greater than zero")]
    [InlineData("max_bytes: 0", "batch.max_bytes", "must be at least 1")]
    public void Batch_limits_must_be_positive_plain_numbers(string line, string key, string reason)
    {
        var e = SinkFails(TempConfigDirectory.ValidSink + "\nbatch:\n  " + line + "\n");

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, key, reason);
    }

    [Fact]
    public void Wrong_node_kind_is_reported()
    {
        var e = SinkFails("""
            name: [orders]
            kafka: localhost:9092
            postgres:
              connection_string: { host: x }
            """);

        ConfigAssert.HasError(e, _dir.SinkFile, "name", "expected a single value, not a list");
        ConfigAssert.HasError(e, _dir.SinkFile, "kafka", "expected a mapping, not a scalar");
        ConfigAssert.HasError(e, _dir.SinkFile, "postgres.connection_string", "expected a single value, not a mapping");
    }

    [Fact]
    public void Schema_must_be_a_plain_identifier()
    {
        var e = SinkFails(TempConfigDirectory.ValidSink.Replace("Database=app", "Database=app\n  schema: my-sink", StringComparison.Ordinal));

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, "postgres.schema", "not a valid schema name");
    }

    [Fact]
    public void Auto_offset_reset_accepts_only_earliest_or_latest()
    {
        var e = SinkFails(TempConfigDirectory.ValidSink.Replace("localhost:9092", "localhost:9092\n  auto_offset_reset: newest", StringComparison.Ordinal));

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, "kafka.auto_offset_reset", "expected one of: earliest, latest");
    }

    [Fact]
    public void Kafka_properties_are_kept_as_strings()
    {
        _dir.Write("sink.yaml", """
            name: s
            kafka:
              bootstrap_servers: b:9092
              properties:
                security.protocol: SSL
                fetch.wait.max.ms: 5
                enable.ssl.certificate.verification: false
            postgres:
              connection_string: Host=x
            """);

        var properties = _dir.Load().Connector.Kafka.Properties;

        Assert.Equal("SSL", properties["security.protocol"]);
        Assert.Equal("5", properties["fetch.wait.max.ms"]);
        Assert.Equal("false", properties["enable.ssl.certificate.verification"]);
    }

    [Fact]
    public void Kafka_properties_that_would_break_exactly_once_are_rejected()
    {
        var e = SinkFails("""
            name: s
            kafka:
              bootstrap_servers: b:9092
              properties:
                enable.auto.commit: true
                sasl.mechanisms: [PLAIN]
            postgres:
              connection_string: Host=x
            """);

        ConfigAssert.HasError(e, _dir.SinkFile, "kafka.properties.enable.auto.commit", "cannot be set here");
        ConfigAssert.HasError(e, _dir.SinkFile, "kafka.properties.sasl.mechanisms", "expected a single value, not a list");
        Assert.Equal(2, e.Errors.Count);
    }

    [Fact]
    public void Http_listen_must_be_host_and_port()
    {
        var e = SinkFails(TempConfigDirectory.ValidSink + "\nhttp:\n  listen: 8080\n");

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, "http.listen", "not host:port");
    }

    [Fact]
    public void Duplicate_key_in_sink_yaml_is_reported()
    {
        var e = SinkFails(TempConfigDirectory.ValidSink + "\nname: again\n");

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, "name", "duplicate key");
    }

    [Fact]
    public void Yaml_syntax_error_is_reported_with_line_and_column()
    {
        var e = SinkFails("name: s\nkafka:\n  bootstrap_servers: [a, b\npostgres: {}\n");

        var error = Assert.Single(e.Errors);
        Assert.Equal(_dir.SinkFile, error.File);
        Assert.Matches(@"^YAML syntax error at line \d+, column \d+: ", error.Reason);
    }

    [Fact]
    public void Empty_sink_yaml_is_reported()
    {
        var e = SinkFails("# nothing here\n");

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, "", "file is empty");
    }

    [Fact]
    public void Several_documents_in_one_file_are_rejected()
    {
        var e = SinkFails(TempConfigDirectory.ValidSink + "\n---\nname: other\n");

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, "", "one YAML document");
    }

    [Fact]
    public void Missing_sink_yaml_is_reported()
    {
        _dir.Delete("sink.yaml");

        ConfigAssert.HasOnlyError(_dir.LoadFails(), _dir.SinkFile, "", "file not found");
    }
}
