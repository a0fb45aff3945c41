using SinkConnector.Configuration;

namespace SinkConnector.UnitTests.Configuration;

/// <summary>What <c>sink run</c> builds at startup (the Npgsql data source, the librdkafka consumer) is checked at load time.</summary>
public sealed class StartupSettingsTests : IDisposable
{
    private readonly TempConfigDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Sink(string connectionString = "Host=localhost;Database=app", string properties = "", string extra = "") => $"""
        name: s
        kafka:
          bootstrap_servers: b:9092
          properties:
            client.id: sink-test
        {properties}
        postgres:
          connection_string: '{connectionString}'
        {extra}
        """;

    private ConfigException SinkFails(string yaml)
    {
        _dir.Write("sink.yaml", yaml);
        return _dir.LoadFails();
    }

    [Theory]
    [InlineData("Host=localhost;Databse=app", "databse")]
    [InlineData("Host=localhost;Database=app;Pasword=secret", "pasword")]
    [InlineData("Host=localhost;Database=app;Port=notaport", "port")]
    [InlineData("Database=app", "Host")]
    public void A_connection_string_npgsql_would_refuse_is_a_config_error(string connectionString, string named)
    {
        var e = SinkFails(Sink(connectionString));

        var error = ConfigAssert.HasOnlyError(e, _dir.SinkFile, "postgres.connection_string", "");
        Assert.Contains(named, error.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secret", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_postgresql_uri_is_converted_to_a_keyword_connection_string()
    {
        _dir.Write("sink.yaml", Sink("postgresql://app%40corp:p%3Ass@db.example:6543/orders?sslmode=verify-full&application_name=sink"));

        var connectionString = new Npgsql.NpgsqlConnectionStringBuilder(_dir.Load().Connector.Postgres.ConnectionString);

        Assert.Equal("app@corp", connectionString.Username);
        Assert.Equal("p:ss", connectionString.Password);
        Assert.Equal("db.example", connectionString.Host);
        Assert.Equal(6543, connectionString.Port);
        Assert.Equal("orders", connectionString.Database);
        Assert.Equal(Npgsql.SslMode.VerifyFull, connectionString.SslMode);
        Assert.Equal("sink", connectionString.ApplicationName);
    }

    [Fact]
    public void A_postgresql_uri_with_an_unknown_parameter_is_a_config_error_that_does_not_quote_the_uri()
    {
        var e = SinkFails(Sink("postgres://app:hunter22@db/orders?sslmod=require"));

        var error = ConfigAssert.HasOnlyError(e, _dir.SinkFile, "postgres.connection_string", "URI parameter 'sslmod' is not supported");
        Assert.DoesNotContain("hunter22", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("session.timeout.ms: abc", "kafka.properties.session.timeout.ms")]
    [InlineData("foo.bar: 1", "kafka.properties.foo.bar")]
    public void A_property_librdkafka_refuses_is_a_config_error_with_its_key(string property, string key)
    {
        var e = SinkFails(Sink(properties: "    " + property));

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, key, "librdkafka rejects it");
    }

    [Fact]
    public void A_valid_librdkafka_property_is_accepted()
    {
        _dir.Write("sink.yaml", Sink(properties: "    session.timeout.ms: 10000"));

        Assert.Equal("10000", _dir.Load().Connector.Kafka.Properties["session.timeout.ms"]);
    }

    [Theory]
    [InlineData("ENABLE.AUTO.COMMIT: true", "kafka.properties.ENABLE.AUTO.COMMIT")]
    [InlineData("GROUP.ID: other", "kafka.properties.GROUP.ID")]
    public void Reserved_properties_are_reserved_in_any_case(string property, string key)
    {
        var e = SinkFails(Sink(properties: "    " + property));

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, key, "cannot be set here");
    }

    [Theory]
    [InlineData("plugin.library.paths: /tmp/evil.so", "kafka.properties.plugin.library.paths", "load native libraries")]
    [InlineData("ssl.engine.location: /tmp/engine.so", "kafka.properties.ssl.engine.location", "native engine library")]
    [InlineData("sasl.kerberos.kinit.cmd: touch /tmp/x", "kafka.properties.sasl.kerberos.kinit.cmd", "runs a shell command")]
    [InlineData("ssl.providers: /tmp/provider.so", "kafka.properties.ssl.providers", "provider names")]
    [InlineData("sasl.kerberos.principal: 'x; touch /tmp/pwned'", "kafka.properties.sasl.kerberos.principal", "kinit command")]
    [InlineData("sasl.kerberos.keytab: '/k\"; touch /tmp/pwned; \"'", "kafka.properties.sasl.kerberos.keytab", "kinit command")]
    public void Properties_that_load_native_code_or_run_commands_are_refused(string property, string key, string reason)
    {
        var e = SinkFails(Sink(properties: "    " + property));

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, key, reason);
    }

    [Theory]
    [InlineData("batch:\n  max_latency: 99999999h", "batch.max_latency")]
    [InlineData("shutdown_grace: 25h", "shutdown_grace")]
    public void Durations_beyond_a_day_are_refused(string yaml, string key)
    {
        var e = SinkFails(Sink(extra: yaml));

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, key, "must be at most 24h");
    }

    [Theory]
    [InlineData("*;x:18096")]
    [InlineData("host/path:80")]
    [InlineData("[not-ipv6]:80")]
    public void Http_listen_hosts_that_would_change_the_url_are_refused(string listen)
    {
        var e = SinkFails(Sink(extra: $"http:\n  listen: '{listen}'"));

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, "http.listen", "not host:port");
    }

    [Theory]
    [InlineData("*:8080")]
    [InlineData("[::1]:8080")]
    [InlineData("sink-0.local:0")]
    public void Http_listen_accepts_names_addresses_and_wildcards(string listen)
    {
        _dir.Write("sink.yaml", Sink(extra: $"http:\n  listen: '{listen}'"));

        Assert.Equal(listen, _dir.Load().Connector.Http!.Listen);
    }

    [Fact]
    public void An_interpolated_value_is_never_echoed_the_variable_is_named_instead()
    {
        _dir.Environment["SINK_POSTGRES"] = "Host=db;Database=app;Password=hunter22";
        var e = SinkFails(Sink(extra: "  schema: ${SINK_POSTGRES}"));

        var error = ConfigAssert.HasOnlyError(e, _dir.SinkFile, "postgres.schema", "'${SINK_POSTGRES}' is not a valid schema name");
        Assert.DoesNotContain("hunter22", e.Message, StringComparison.Ordinal);
        Assert.Contains("not shown", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_library_message_about_an_interpolated_value_names_the_variable()
    {
        _dir.Environment["SESSION_TIMEOUT"] = "hunter22";
        var e = SinkFails(Sink(properties: "    session.timeout.ms: ${SESSION_TIMEOUT}"));

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, "kafka.properties.session.timeout.ms", "librdkafka rejects it");
        Assert.DoesNotContain("hunter22", e.Message, StringComparison.Ordinal);
    }
}
