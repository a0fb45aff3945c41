using Microsoft.Extensions.Options;
using SinkConnector.Configuration;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>Checks <see cref="KafkaSinkOptions"/> when the host starts; each failure names the configuration key.</summary>
internal sealed class KafkaSinkOptionsValidator(string section) : IValidateOptions<KafkaSinkOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaSinkOptions options)
    {
        var failures = new List<string>();
        void Require(bool ok, string key, string reason)
        {
            if (!ok)
            {
                failures.Add($"{section}:{key}: {reason}");
            }
        }

        Require(!string.IsNullOrWhiteSpace(options.BootstrapServers), nameof(options.BootstrapServers), "required (the Kafka brokers, host:port)");
        Require(!string.IsNullOrWhiteSpace(options.GroupId), nameof(options.GroupId), "required (the consumer group)");
        Require(PostgresIdentifiers.TryValidateQuotedIdentifier(options.Schema, out var schemaError), nameof(options.Schema), schemaError ?? "");
        Require(options.MaxBatchMessages > 0, nameof(options.MaxBatchMessages), "must be at least 1");
        Require(options.MaxBatchBytes > 0, nameof(options.MaxBatchBytes), "must be at least 1");
        Require(options.MaxBatchLatency > TimeSpan.Zero, nameof(options.MaxBatchLatency), "must be positive");
        Require(options.ShutdownGrace > TimeSpan.Zero, nameof(options.ShutdownGrace), "must be positive");
        Require(options.HandlerTimeout > TimeSpan.Zero, nameof(options.HandlerTimeout), "must be positive");
        if (options.SchemaRegistry is { } registry)
        {
            Require(!string.IsNullOrWhiteSpace(registry.Url), $"{nameof(options.SchemaRegistry)}:{nameof(registry.Url)}", "required (the Schema Registry's URL)");
            Require(registry.RequestTimeout > TimeSpan.Zero, $"{nameof(options.SchemaRegistry)}:{nameof(registry.RequestTimeout)}", "must be positive");
            Require(registry.ClientCertFile is null == registry.ClientKeyFile is null, $"{nameof(options.SchemaRegistry)}:{nameof(registry.ClientKeyFile)}",
                "ClientCertFile and ClientKeyFile go together (a PEM client certificate and its private key)");
            Require(registry.ClientCertFile is null || registry.ClientKeystore is null, $"{nameof(options.SchemaRegistry)}:{nameof(registry.ClientKeystore)}",
                "set either ClientKeystore (PKCS#12) or ClientCertFile and ClientKeyFile (PEM), not both");
        }

        foreach (var property in options.Properties.Keys.Where(ConsumerSettings.ReservedProperties.ContainsKey))
        {
            failures.Add($"{section}:{nameof(options.Properties)}:{property}: cannot be set here: the consumer sets it " +
                "(exactly once depends on it, or it has an option of its own)");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
