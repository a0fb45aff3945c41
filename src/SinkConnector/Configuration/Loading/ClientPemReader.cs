using System.Security.Cryptography;
using SinkConnector.Registry;
using YamlDotNet.RepresentationModel;

namespace SinkConnector.Configuration.Loading;

/// <summary>
/// Reads <c>client_cert_file</c>, <c>client_key_file</c> and <c>client_key_password</c> of <c>schema_registry</c>:
/// a client certificate in PEM files, checked by loading it, so that a wrong file or password stops
/// <c>sink validate</c> and <c>sink run</c> with the key to fix instead of failing every registry request.
/// </summary>
internal static class ClientPemReader
{
    public static (string? CertFile, string? KeyFile, string? KeyPassword) Read(YamlMappingNode registry, YamlValueReader reader, string path)
    {
        var certFile = reader.String(registry, path, "client_cert_file");
        var keyFile = reader.String(registry, path, "client_key_file");
        var keyPassword = reader.String(registry, path, "client_key_password");
        if (certFile is null && keyFile is null)
        {
            if (keyPassword is not null)
            {
                reader.Error(path + ".client_key_password", "needs client_cert_file and client_key_file (the PEM key it decrypts)");
            }

            return (null, null, null);
        }

        var missing = false;
        foreach (var (key, file) in new[] { ("client_cert_file", certFile), ("client_key_file", keyFile) })
        {
            if (file is null)
            {
                reader.Error($"{path}.{key}", "client_cert_file and client_key_file go together (a PEM client certificate and its private key)");
                missing = true;
            }
            else if (!File.Exists(file))
            {
                reader.Error($"{path}.{key}", $"file '{file}' not found");
                missing = true;
            }
        }

        if (missing)
        {
            return (null, null, null);
        }

        try
        {
            using var certificate = PemClientCertificate.Load(certFile!, keyFile!, keyPassword);
        }
        catch (CryptographicException e)
        {
            reader.Error(path + ".client_key_file", keyPassword is null && File.ReadAllText(keyFile!).Contains("ENCRYPTED", StringComparison.Ordinal)
                ? "the key is encrypted: set client_key_password (from the environment, e.g. \"${SR_KEY_PASSWORD}\")"
                : $"the certificate in '{certFile}' and the key in '{keyFile}' cannot be loaded together ({e.Message}); " +
                  "a PEM certificate, its matching private key, and client_key_password if the key is encrypted");
        }

        return (certFile, keyFile, keyPassword);
    }
}
