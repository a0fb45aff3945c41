namespace SinkConnector.Configuration;

/// <summary>The <c>schema_registry</c> section of <c>sink.yaml</c>: where Avro and JSON Schema mappings get their schemas.</summary>
public sealed record SchemaRegistrySettings
{
    /// <summary>One or more base URLs; the client tries the next when one fails.</summary>
    public required IReadOnlyList<string> Urls { get; init; }

    /// <summary>HTTP basic authentication (Confluent Cloud: API key and secret); both set or neither.</summary>
    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>A static bearer token; not together with <see cref="Username"/>.</summary>
    public string? BearerToken { get; init; }

    /// <summary>Per HTTP request to the registry.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>PEM file of the CA that signed the registry's TLS certificate, when it is not a system-trusted one.</summary>
    public string? CaFile { get; init; }

    /// <summary>PKCS#12 file with the client certificate and its key, for a registry that asks clients for one (mutual TLS).</summary>
    public string? ClientKeystoreFile { get; init; }

    /// <summary>The password of <see cref="ClientKeystoreFile"/> (from the environment).</summary>
    public string? ClientKeystorePassword { get; init; }

    /// <summary>PEM file with the client certificate (and any intermediates), for mutual TLS; with <see cref="ClientKeyFile"/>, instead of <see cref="ClientKeystoreFile"/>.</summary>
    public string? ClientCertFile { get; init; }

    /// <summary>PEM file with the client certificate's private key (PKCS#8, encrypted or not; PKCS#1 or SEC1 unencrypted).</summary>
    public string? ClientKeyFile { get; init; }

    /// <summary>The password of an encrypted <see cref="ClientKeyFile"/> (from the environment).</summary>
    public string? ClientKeyPassword { get; init; }
}
