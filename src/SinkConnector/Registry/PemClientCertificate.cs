using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SinkConnector.Registry;

/// <summary>
/// A client certificate from PEM files (<c>client_cert_file</c>, <c>client_key_file</c>) for the Confluent registry
/// client, which takes client certificates only as a PKCS#12 file path (<c>schema.registry.ssl.keystore.location</c>,
/// read once, in its constructor). The certificate goes to it as a PKCS#12 in an anonymous in-memory file
/// (<see cref="InMemoryFile"/>), encrypted with a random password, so the private key never reaches a disk.
/// </summary>
public static class PemClientCertificate
{
    /// <summary>The certificate with its private key; throws <see cref="CryptographicException"/> for files that do not make one.</summary>
    public static X509Certificate2 Load(string certFile, string keyFile, string? keyPassword) =>
        keyPassword is null
            ? X509Certificate2.CreateFromPemFile(certFile, keyFile)
            : X509Certificate2.CreateFromEncryptedPemFile(certFile, keyPassword, keyFile);

    /// <summary>
    /// Runs <paramref name="create"/> with the keystore location and password that hand it the certificate; the
    /// in-memory file is gone when this returns, so <paramref name="create"/> must read it (as the client's constructor does).
    /// </summary>
    public static T WithKeystore<T>(string certFile, string keyFile, string? keyPassword, Func<string, string, T> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        using var certificate = Load(certFile, keyFile, keyPassword);
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        var pkcs12 = certificate.Export(X509ContentType.Pkcs12, password);
        try
        {
            using var file = InMemoryFile.Create("sink-registry-client", pkcs12);
            return create(file.Path, password);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs12);
        }
    }
}
