using Confluent.SchemaRegistry;
using SinkConnector.Configuration;

namespace SinkConnector.Registry;

/// <summary>The Confluent registry client for the <c>schema_registry</c> settings of <c>sink.yaml</c>.</summary>
public static class SchemaRegistryClients
{
    public static SchemaSource Create(SchemaRegistrySettings settings) => new(CreateClient(settings));

    /// <summary>The client, with the PEM client certificate (if any) handed over in memory.</summary>
    public static CachedSchemaRegistryClient CreateClient(SchemaRegistrySettings settings)
    {
        var config = Config(settings);
        if (settings.ClientCertFile is not { } certFile || settings.ClientKeyFile is not { } keyFile)
        {
            return new CachedSchemaRegistryClient(config);
        }

        return PemClientCertificate.WithKeystore(certFile, keyFile, settings.ClientKeyPassword, (location, password) =>
        {
            config.SslKeystoreLocation = location;
            config.SslKeystorePassword = password;
            return new CachedSchemaRegistryClient(config);
        });
    }

    public static SchemaRegistryConfig Config(SchemaRegistrySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var config = new SchemaRegistryConfig
        {
            Url = string.Join(',', settings.Urls),
            RequestTimeoutMs = (int)Math.Min(int.MaxValue, settings.RequestTimeout.TotalMilliseconds),
            SslCaLocation = settings.CaFile,
            SslKeystoreLocation = settings.ClientKeystoreFile,
            SslKeystorePassword = settings.ClientKeystorePassword,
        };
        if (settings.Username is not null)
        {
            config.BasicAuthCredentialsSource = AuthCredentialsSource.UserInfo;
            config.BasicAuthUserInfo = $"{settings.Username}:{settings.Password}";
        }

        if (settings.BearerToken is not null)
        {
            config.BearerAuthCredentialsSource = BearerAuthCredentialsSource.StaticToken;
            config.BearerAuthToken = settings.BearerToken;
        }

        return config;
    }
}
