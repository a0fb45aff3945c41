using YamlDotNet.RepresentationModel;

namespace SinkConnector.Configuration.Loading;

/// <summary>Reads and validates the <c>schema_registry</c> section of <c>sink.yaml</c>.</summary>
internal static class SchemaRegistryReader
{
    private const string Path = "schema_registry";

    public static SchemaRegistrySettings? Read(YamlMappingNode? registry, YamlValueReader reader)
    {
        if (registry is null)
        {
            return null;
        }

        reader.RejectUnknownKeys(registry, Path, "url", "basic_auth", "bearer_token", "request_timeout", "ca_file", "client_keystore", "client_keystore_password",
            "client_cert_file", "client_key_file", "client_key_password");
        var urls = ReadUrls(registry, reader);
        var (username, password) = ReadBasicAuth(reader.Mapping(registry, Path, "basic_auth"), reader);
        var token = reader.String(registry, Path, "bearer_token");
        if (token is not null && username is not null)
        {
            reader.Error(Path + ".bearer_token", "set either basic_auth or bearer_token, not both");
        }

        var caFile = reader.String(registry, Path, "ca_file");
        if (caFile is not null && !File.Exists(caFile))
        {
            reader.Error(Path + ".ca_file", $"file '{caFile}' not found (a PEM file with the CA certificate of the registry's TLS certificate)");
        }

        var (keystore, keystorePassword) = ReadClientKeystore(registry, reader);
        var (certFile, keyFile, keyPassword) = ClientPemReader.Read(registry, reader, Path);
        if (certFile is not null && keystore is not null)
        {
            reader.Error(Path + ".client_cert_file", "set either client_keystore (PKCS#12) or client_cert_file and client_key_file (PEM), not both");
        }

        var settings = new SchemaRegistrySettings
        {
            Urls = urls, Username = username, Password = password, BearerToken = token, CaFile = caFile,
            ClientKeystoreFile = keystore, ClientKeystorePassword = keystorePassword,
            ClientCertFile = certFile, ClientKeyFile = keyFile, ClientKeyPassword = keyPassword,
        };
        return reader.Duration(registry, Path, "request_timeout") is { } timeout ? settings with { RequestTimeout = timeout } : settings;
    }

    /// <summary><c>url: http://a:8081</c>, or a list (or a comma-separated string, as Confluent clients take it) for several.</summary>
    private static List<string> ReadUrls(YamlMappingNode registry, YamlValueReader reader)
    {
        var listed = YamlValueReader.Get(registry, "url") is YamlSequenceNode
            ? reader.StringList(registry, Path, "url") ?? []
            : reader.String(registry, Path, "url", required: true) is { } one
                ? [.. one.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(u => (u, Path + ".url"))]
                : [];
        var urls = new List<string>();
        foreach (var (url, path) in listed)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
            {
                reader.Error(path, $"'{url}' is not an http:// or https:// URL (for example http://schema-registry:8081)");
            }
            else if (uri.UserInfo.Length > 0)
            {
                reader.Error(path, "must not contain credentials; set schema_registry.basic_auth from environment variables instead");
            }
            else
            {
                urls.Add(url);
            }
        }

        if (YamlValueReader.Get(registry, "url") is YamlSequenceNode { Children.Count: 0 })
        {
            reader.Error(Path + ".url", "must list at least one URL");
        }

        return urls;
    }

    /// <summary>The client certificate for mutual TLS: a PKCS#12 file, as the Confluent client takes it.</summary>
    private static (string? File, string? Password) ReadClientKeystore(YamlMappingNode registry, YamlValueReader reader)
    {
        var file = reader.String(registry, Path, "client_keystore");
        var password = reader.String(registry, Path, "client_keystore_password");
        if (file is not null && !File.Exists(file))
        {
            reader.Error(Path + ".client_keystore", $"file '{file}' not found (a PKCS#12 file with the client certificate and its key; " +
                "or PEM files: client_cert_file and client_key_file)");
        }
        else if (password is not null && file is null)
        {
            reader.Error(Path + ".client_keystore_password", "needs client_keystore (the PKCS#12 file it opens)");
        }

        return (file, password);
    }

    private static (string? Username, string? Password) ReadBasicAuth(YamlMappingNode? auth, YamlValueReader reader)
    {
        if (auth is null)
        {
            return (null, null);
        }

        const string path = Path + ".basic_auth";
        reader.RejectUnknownKeys(auth, path, "username", "password");
        var username = reader.String(auth, path, "username", required: true);
        var password = reader.String(auth, path, "password", required: true);
        if (username is not null && username.Contains(':', StringComparison.Ordinal))
        {
            // The Confluent client takes "username:password" and splits it at the first colon.
            reader.Error(path + ".username", "must not contain ':'");
            return (null, null);
        }

        return username is null || password is null ? (null, null) : (username, password);
    }
}
