using SinkConnector.Configuration;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>
/// The Schema Registry of handlers registered with a Confluent deserializer (<c>AddHandler(topic, registry => new
/// AvroDeserializer&lt;T&gt;(registry))</c>): the <c>SchemaRegistry</c> subsection of the Kafka sink's configuration,
/// the same settings as the sink's <c>schema_registry</c>.
/// </summary>
public sealed class SchemaRegistryOptions
{
    /// <summary>Required: the registry's URL (several comma-separated).</summary>
    public string Url { get; set; } = "";

    public string? Username { get; set; }

    public string? Password { get; set; }

    public string? BearerToken { get; set; }

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A PEM file of the CA that signed the registry's certificate, if not a system-trusted one.</summary>
    public string? CaFile { get; set; }

    /// <summary>Mutual TLS with PEM files: the client certificate; with <see cref="ClientKeyFile"/> (Linux only: handed to the client in memory).</summary>
    public string? ClientCertFile { get; set; }

    public string? ClientKeyFile { get; set; }

    /// <summary>The password of an encrypted <see cref="ClientKeyFile"/>.</summary>
    public string? ClientKeyPassword { get; set; }

    /// <summary>Mutual TLS with a PKCS#12 file instead of PEM files.</summary>
    public string? ClientKeystore { get; set; }

    public string? ClientKeystorePassword { get; set; }

    internal SchemaRegistrySettings ToSettings() => new()
    {
        Urls = [.. Url.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
        Username = Username,
        Password = Password,
        BearerToken = BearerToken,
        RequestTimeout = RequestTimeout,
        CaFile = CaFile,
        ClientCertFile = ClientCertFile,
        ClientKeyFile = ClientKeyFile,
        ClientKeyPassword = ClientKeyPassword,
        ClientKeystoreFile = ClientKeystore,
        ClientKeystorePassword = ClientKeystorePassword,
    };
}
