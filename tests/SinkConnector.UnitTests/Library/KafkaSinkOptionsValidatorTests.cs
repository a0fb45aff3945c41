using Microsoft.Extensions.Configuration;
using SinkConnector.EntityFrameworkCore;

namespace SinkConnector.UnitTests.Library;

public class KafkaSinkOptionsValidatorTests
{
    private static KafkaSinkOptions Bind(Dictionary<string, string?> values)
    {
        var options = new KafkaSinkOptions();
        new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection("KafkaSink").Bind(options);
        return options;
    }

    [Fact]
    public void Options_bound_from_configuration_keys_validate_and_become_the_engines_settings()
    {
        var options = Bind(new()
        {
            ["KafkaSink:BootstrapServers"] = "broker:9092",
            ["KafkaSink:GroupId"] = "orders-service",
            ["KafkaSink:AutoOffsetReset"] = "Latest",
            ["KafkaSink:MaxBatchLatency"] = "00:00:00.050",
            ["KafkaSink:OnError"] = "Fail",
            ["KafkaSink:Properties:security.protocol"] = "SASL_SSL",
            ["KafkaSink:RedactHeaders:0"] = "Authorization",
        });

        Assert.True(new KafkaSinkOptionsValidator("KafkaSink").Validate(null, options).Succeeded);
        var connector = options.ToConnector("Host=db");
        Assert.Equal("orders-service", connector.Kafka.GroupId);
        Assert.Equal(SinkConnector.Configuration.AutoOffsetReset.Latest, connector.Kafka.AutoOffsetReset);
        Assert.Equal(TimeSpan.FromMilliseconds(50), connector.Batch.MaxLatency);
        Assert.Equal("SASL_SSL", connector.Kafka.Properties["security.protocol"]);
        Assert.Contains("authorization", connector.DeadLetters.RedactHeaders);
        Assert.Equal(HandlerErrorPolicy.Fail, options.OnError);
    }

    [Fact]
    public void Every_invalid_option_is_named_with_its_configuration_key()
    {
        var options = Bind(new()
        {
            ["KafkaSink:MaxBatchMessages"] = "0",
            ["KafkaSink:HandlerTimeout"] = "00:00:00",
            ["KafkaSink:Schema"] = "",
            ["KafkaSink:Properties:enable.auto.commit"] = "true",
        });

        var failures = new KafkaSinkOptionsValidator("KafkaSink").Validate(null, options).Failures!.ToList();

        Assert.Equal(
        [
            "KafkaSink:BootstrapServers: required (the Kafka brokers, host:port)",
            "KafkaSink:GroupId: required (the consumer group)",
            "KafkaSink:Schema: is empty",
            "KafkaSink:MaxBatchMessages: must be at least 1",
            "KafkaSink:HandlerTimeout: must be positive",
            "KafkaSink:Properties:enable.auto.commit: cannot be set here: the consumer sets it (exactly once depends on it, or it has an option of its own)",
        ], failures);
    }

    [Fact]
    public void Schema_registry_settings_bind_from_their_subsection_and_an_empty_url_is_named()
    {
        var options = Bind(new()
        {
            ["KafkaSink:BootstrapServers"] = "broker:9092",
            ["KafkaSink:GroupId"] = "orders-service",
            ["KafkaSink:SchemaRegistry:Url"] = "http://registry-a:8081, http://registry-b:8081",
            ["KafkaSink:SchemaRegistry:Username"] = "app",
            ["KafkaSink:SchemaRegistry:RequestTimeout"] = "00:00:05",
        });

        Assert.True(new KafkaSinkOptionsValidator("KafkaSink").Validate(null, options).Succeeded);
        var settings = options.SchemaRegistry!.ToSettings();
        Assert.Equal(["http://registry-a:8081", "http://registry-b:8081"], settings.Urls);
        Assert.Equal("app", settings.Username);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.RequestTimeout);

        options.SchemaRegistry.Url = " ";
        Assert.Equal(["KafkaSink:SchemaRegistry:Url: required (the Schema Registry's URL)"],
            new KafkaSinkOptionsValidator("KafkaSink").Validate(null, options).Failures!);
    }

    [Fact]
    public void Registry_client_certificates_bind_as_pem_files_or_a_keystore_and_a_lone_or_doubled_one_is_named()
    {
        var options = Bind(new()
        {
            ["KafkaSink:BootstrapServers"] = "broker:9092",
            ["KafkaSink:GroupId"] = "orders-service",
            ["KafkaSink:SchemaRegistry:Url"] = "https://registry:8081",
            ["KafkaSink:SchemaRegistry:CaFile"] = "/etc/app/ca.pem",
            ["KafkaSink:SchemaRegistry:ClientCertFile"] = "/etc/app/client.crt",
            ["KafkaSink:SchemaRegistry:ClientKeyFile"] = "/etc/app/client.key",
            ["KafkaSink:SchemaRegistry:ClientKeyPassword"] = "k3y",
        });

        Assert.True(new KafkaSinkOptionsValidator("KafkaSink").Validate(null, options).Succeeded);
        var settings = options.SchemaRegistry!.ToSettings();
        Assert.Equal(("/etc/app/client.crt", "/etc/app/client.key", "k3y"), (settings.ClientCertFile, settings.ClientKeyFile, settings.ClientKeyPassword));

        options.SchemaRegistry.ClientKeyFile = null;
        options.SchemaRegistry.ClientKeystore = "/etc/app/client.p12";
        Assert.Equal([
            "KafkaSink:SchemaRegistry:ClientKeyFile: ClientCertFile and ClientKeyFile go together (a PEM client certificate and its private key)",
            "KafkaSink:SchemaRegistry:ClientKeystore: set either ClientKeystore (PKCS#12) or ClientCertFile and ClientKeyFile (PEM), not both",
        ], new KafkaSinkOptionsValidator("KafkaSink").Validate(null, options).Failures!);
        Assert.Equal("/etc/app/client.p12", options.SchemaRegistry.ToSettings().ClientKeystoreFile);
    }
}
