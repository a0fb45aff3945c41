using Confluent.SchemaRegistry;
using SinkConnector.Configuration;
using SinkConnector.Registry;
using SinkConnector.Testing;

namespace SinkConnector.UnitTests.Configuration;

/// <summary>The <c>schema_registry</c> section of sink.yaml and the <c>format</c> / <c>encoding</c> / <c>key_encoding</c> keys of mappings.</summary>
public sealed class SchemaRegistryConfigTests : IDisposable
{
    private const string AvroMapping = """
        topic: orders
        table: public.orders
        format: avro
        columns:
          id: { from: value.id, type: bigint }
        """;

    private readonly TempConfigDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private SinkConfig LoadWith(string registry, string mapping = AvroMapping)
    {
        _dir.Write("sink.yaml", TempConfigDirectory.ValidSink + "\n" + registry);
        _dir.Write("mappings/orders.yaml", mapping);
        return _dir.Load();
    }

    private ConfigException FailsWith(string registry, string mapping = AvroMapping)
    {
        _dir.Write("sink.yaml", TempConfigDirectory.ValidSink + "\n" + registry);
        _dir.Write("mappings/orders.yaml", mapping);
        return _dir.LoadFails();
    }

    [Fact]
    public void Registry_settings_with_credentials_from_the_environment_become_the_confluent_client_config()
    {
        _dir.Environment["SR_USER"] = "api-key";
        _dir.Environment["SR_PASSWORD"] = "s3cr:et";
        var ca = _dir.Write("registry-ca.pem", "-----BEGIN CERTIFICATE-----");
        var settings = LoadWith($$"""
            schema_registry:
              url: [https://sr-1:8081, https://sr-2:8081]
              basic_auth: { username: "${SR_USER}", password: "${SR_PASSWORD}" }
              request_timeout: 5s
              ca_file: {{ca}}
            """).Connector.SchemaRegistry!;

        Assert.Equal(["https://sr-1:8081", "https://sr-2:8081"], settings.Urls);
        var config = SchemaRegistryClients.Config(settings);
        Assert.Equal("https://sr-1:8081,https://sr-2:8081", config.Url);
        Assert.Equal("api-key:s3cr:et", config.BasicAuthUserInfo);
        Assert.Equal(AuthCredentialsSource.UserInfo, config.BasicAuthCredentialsSource);
        Assert.Equal(5000, config.RequestTimeoutMs);
        Assert.Equal(ca, config.SslCaLocation);
    }

    [Fact]
    public void A_bearer_token_and_a_comma_separated_url_are_accepted_and_the_timeout_defaults_to_30s()
    {
        _dir.Environment["SR_TOKEN"] = "tok";
        var settings = LoadWith("""
            schema_registry:
              url: http://a:8081, http://b:8081
              bearer_token: ${SR_TOKEN}
            """).Connector.SchemaRegistry!;

        Assert.Equal(["http://a:8081", "http://b:8081"], settings.Urls);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.RequestTimeout);
        var config = SchemaRegistryClients.Config(settings);
        Assert.Equal("tok", config.BearerAuthToken);
        Assert.Equal(BearerAuthCredentialsSource.StaticToken, config.BearerAuthCredentialsSource);
    }

    [Fact]
    public void Invalid_registry_settings_are_each_reported_with_file_key_and_reason()
    {
        var e = FailsWith("""
            schema_registry:
              url: [ftp://x, "http://user:pw@sr:8081"]
              basic_auth: { username: "a:b", password: p }
              bearer_token: t
              request_timeout: 0s
              ca_file: /nonexistent/ca.pem
              proxy: x
            """);

        ConfigAssert.HasError(e, _dir.SinkFile, "schema_registry.url[0]", "is not an http:// or https:// URL");
        ConfigAssert.HasError(e, _dir.SinkFile, "schema_registry.url[1]", "must not contain credentials");
        ConfigAssert.HasError(e, _dir.SinkFile, "schema_registry.basic_auth.username", "must not contain ':'");
        ConfigAssert.HasError(e, _dir.SinkFile, "schema_registry.ca_file", "not found");
        ConfigAssert.HasError(e, _dir.SinkFile, "schema_registry.request_timeout", "");
        ConfigAssert.HasError(e, _dir.SinkFile, "schema_registry.proxy", "");
    }

    [Fact]
    public void Basic_auth_and_a_bearer_token_together_are_refused()
    {
        var e = FailsWith("""
            schema_registry:
              url: http://sr:8081
              basic_auth: { username: u, password: p }
              bearer_token: t
            """);

        ConfigAssert.HasOnlyError(e, _dir.SinkFile, "schema_registry.bearer_token", "either basic_auth or bearer_token");
    }

    [Fact]
    public void A_registry_encoded_mapping_without_schema_registry_in_sink_yaml_names_the_mapping_and_the_missing_key()
    {
        var e = FailsWith("");

        ConfigAssert.HasOnlyError(e, _dir.MappingFile("orders.yaml"), "encoding", "set schema_registry.url in sink.yaml");
    }

    [Theory]
    [InlineData("format: avro", MessageFormat.Json, PayloadEncoding.Avro, PayloadEncoding.Avro)]
    [InlineData("format: json_schema", MessageFormat.Json, PayloadEncoding.JsonSchema, PayloadEncoding.JsonSchema)]
    [InlineData("format: debezium\nencoding: avro", MessageFormat.Debezium, PayloadEncoding.Avro, PayloadEncoding.Avro)]
    [InlineData("format: debezium\nencoding: avro\nkey_encoding: json", MessageFormat.Debezium, PayloadEncoding.Avro, PayloadEncoding.Json)]
    [InlineData("format: json\nkey_encoding: avro", MessageFormat.Json, PayloadEncoding.Json, PayloadEncoding.Avro)]
    [InlineData("format: debezium", MessageFormat.Debezium, PayloadEncoding.Json, PayloadEncoding.Json)]
    [InlineData("format: protobuf", MessageFormat.Json, PayloadEncoding.Protobuf, PayloadEncoding.Protobuf)]
    [InlineData("format: debezium\nencoding: protobuf", MessageFormat.Debezium, PayloadEncoding.Protobuf, PayloadEncoding.Protobuf)]
    [InlineData("format: json\nencoding: protobuf\nkey_encoding: json", MessageFormat.Json, PayloadEncoding.Protobuf, PayloadEncoding.Json)]
    public void The_envelope_and_the_encodings_of_value_and_key_are_separate_settings(string keys, MessageFormat envelope, PayloadEncoding value, PayloadEncoding key)
    {
        var mapping = Assert.Single(LoadWith("schema_registry: { url: http://sr:8081 }", $"""
            topic: orders
            table: public.orders
            {keys}
            columns:
              id: {"{"} from: value.id, type: bigint {"}"}
            """).Mappings);

        Assert.Equal((envelope, value, key), (mapping.Format, mapping.ValueEncoding, mapping.KeyEncoding));
    }

    [Theory]
    [InlineData("format: avro\nencoding: json_schema", "encoding", "contradicts format: avro")]
    [InlineData("format: raw\nencoding: avro", "encoding", "does not apply to format: raw")]
    [InlineData("format: connect-json\nkey_encoding: avro", "key_encoding", "does not apply to format: connect-json")]
    [InlineData("format: json\nencoding: thrift", "encoding", "expected one of: json, avro, json_schema, protobuf")]
    [InlineData("format: protobuf\nencoding: avro", "encoding", "contradicts format: protobuf")]
    public void Encodings_that_contradict_the_format_are_refused(string keys, string key, string reason)
    {
        var e = FailsWith("schema_registry: { url: http://sr:8081 }", $"""
            topic: orders
            table: public.orders
            {keys}
            columns:
              id: {"{"} from: value.id, type: bigint {"}"}
            """);

        ConfigAssert.HasError(e, _dir.MappingFile("orders.yaml"), key, reason);
    }

    [Fact]
    public void A_client_keystore_for_mutual_tls_becomes_the_confluent_keystore_settings_and_a_missing_file_is_refused()
    {
        _dir.Environment["SR_KEYSTORE_PASSWORD"] = "changeit";
        var keystore = _dir.Write("client.p12", "not really PKCS#12: the client opens it at the first request");
        var settings = LoadWith($$"""
            schema_registry:
              url: https://sr:8081
              client_keystore: {{keystore}}
              client_keystore_password: ${SR_KEYSTORE_PASSWORD}
            """).Connector.SchemaRegistry!;

        var config = SchemaRegistryClients.Config(settings);
        Assert.Equal(keystore, config.SslKeystoreLocation);
        Assert.Equal("changeit", config.SslKeystorePassword);

        var missing = FailsWith("""
            schema_registry:
              url: https://sr:8081
              client_keystore: /nonexistent/client.p12
            """);
        Assert.Contains(missing.Errors, e => e.Key == "schema_registry.client_keystore" && e.Reason.Contains("PKCS#12", StringComparison.Ordinal));
        var passwordOnly = FailsWith("""
            schema_registry:
              url: https://sr:8081
              client_keystore_password: x
            """);
        Assert.Contains(passwordOnly.Errors, e => e.Key == "schema_registry.client_keystore_password");
    }

    [Fact]
    public void A_pem_client_certificate_is_loaded_at_validation_with_its_key_password_from_the_environment_and_each_problem_names_its_key()
    {
        using var certificates = TestCertificates.Create("config-pem");
        var (certFile, keyFile) = certificates.WriteClientPem(_dir.Root, keyPassword: "k3y");
        _dir.Environment["SR_KEY_PASSWORD"] = "k3y";
        var settings = LoadWith($$"""
            schema_registry:
              url: https://sr:8081
              client_cert_file: {{certFile}}
              client_key_file: {{keyFile}}
              client_key_password: ${SR_KEY_PASSWORD}
            """).Connector.SchemaRegistry!;
        Assert.Equal((certFile, keyFile, "k3y"), (settings.ClientCertFile, settings.ClientKeyFile, settings.ClientKeyPassword));

        var noPassword = FailsWith($$"""
            schema_registry: { url: "https://sr:8081", client_cert_file: "{{certFile}}", client_key_file: "{{keyFile}}" }
            """);
        Assert.Contains(noPassword.Errors, e => e.Key == "schema_registry.client_key_file" && e.Reason.Contains("set client_key_password", StringComparison.Ordinal));
        var wrongPassword = FailsWith($$"""
            schema_registry: { url: "https://sr:8081", client_cert_file: "{{certFile}}", client_key_file: "{{keyFile}}", client_key_password: nope }
            """);
        Assert.Contains(wrongPassword.Errors, e => e.Key == "schema_registry.client_key_file" && e.Reason.Contains("cannot be loaded together", StringComparison.Ordinal));
        var certOnly = FailsWith($$"""
            schema_registry: { url: "https://sr:8081", client_cert_file: "{{certFile}}" }
            """);
        Assert.Contains(certOnly.Errors, e => e.Key == "schema_registry.client_key_file" && e.Reason.Contains("go together", StringComparison.Ordinal));
        var keystore = certificates.WriteClientPkcs12(_dir.Root, "p");
        var both = FailsWith($$"""
            schema_registry: { url: "https://sr:8081", client_cert_file: "{{certFile}}", client_key_file: "{{keyFile}}", client_key_password: k3y, client_keystore: "{{keystore}}" }
            """);
        Assert.Contains(both.Errors, e => e.Key == "schema_registry.client_cert_file" && e.Reason.Contains("not both", StringComparison.Ordinal));
    }

    [Fact]
    public void An_avro_or_json_schema_mapping_without_columns_takes_them_from_the_schema_and_a_plain_json_one_must_list_them()
    {
        var mapping = LoadWith("schema_registry: { url: http://sr:8081 }", """
            topic: orders
            table: public.orders
            format: debezium
            encoding: avro
            mode: upsert
            """).Mappings.Single();
        Assert.True(mapping.ColumnsFromSchema);
        Assert.Empty(mapping.Columns);
        Assert.Empty(mapping.Key);

        var listed = LoadWith("schema_registry: { url: http://sr:8081 }").Mappings.Single();
        Assert.False(listed.ColumnsFromSchema);

        var overrides = LoadWith("schema_registry: { url: http://sr:8081 }", """
            topic: orders
            table: public.orders
            format: avro
            columns_from_schema: true
            key: [id]
            mode: upsert
            columns:
              src_offset: { from: offset, type: bigint }
            """).Mappings.Single();
        Assert.True(overrides.ColumnsFromSchema);
        Assert.Equal(["src_offset"], overrides.Columns.Select(c => c.Name));
        Assert.Equal(["id"], overrides.Key);

        var jsonSchema = LoadWith("schema_registry: { url: http://sr:8081 }", """
            topic: orders
            table: public.orders
            format: json_schema
            """).Mappings.Single();
        Assert.True(jsonSchema.ColumnsFromSchema);
        var explicitJson = FailsWith("schema_registry: { url: http://sr:8081 }", """
            topic: orders
            table: public.orders
            format: json
            columns_from_schema: true
            """);
        Assert.Contains(explicitJson.Errors, e => e.Key == "columns_from_schema" && e.Reason.Contains("need encoding: avro or json_schema", StringComparison.Ordinal));
        var protobuf = FailsWith("schema_registry: { url: http://sr:8081 }", """
            topic: orders
            table: public.orders
            format: protobuf
            columns_from_schema: true
            """);
        Assert.Contains(protobuf.Errors, e => e.Key == "columns_from_schema" && e.Reason.Contains("list the columns of a protobuf mapping", StringComparison.Ordinal));
        var plain = FailsWith("schema_registry: { url: http://sr:8081 }", """
            topic: orders
            table: public.orders
            format: json
            """);
        Assert.Contains(plain.Errors, e => e.Key == "columns" && e.Reason.Contains("is required", StringComparison.Ordinal));
    }
}
