using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SinkConnector.Testing;

/// <summary>
/// A private CA made in the test (a root and an issuing CA it signed, as CAs usually are), a server certificate for
/// 127.0.0.1/localhost and a client certificate, both signed by the issuing CA, each with its key (ECDSA P-256), and
/// the files a client configuration names (PEM, PKCS#12).
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private TestCertificates(X509Certificate2 root, X509Certificate2 issuing, X509Certificate2 server, X509Certificate2 client)
    {
        Root = root;
        Issuing = issuing;
        Server = server;
        Client = client;
    }

    public X509Certificate2 Root { get; }

    public X509Certificate2 Issuing { get; }

    public X509Certificate2 Server { get; }

    public X509Certificate2 Client { get; }

    public static TestCertificates Create(string name)
    {
        var now = DateTimeOffset.UtcNow.AddMinutes(-5);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN={name} test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var root = caRequest.CreateSelfSigned(now, now.AddDays(1));
        var issuing = IssueCa(root, $"CN={name} issuing CA", now);

        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        var server = Issue(issuing, $"CN={name} registry", "1.3.6.1.5.5.7.3.1", names.Build(), now, 1);
        var client = Issue(issuing, $"CN={name} sink client", "1.3.6.1.5.5.7.3.2", null, now, 2);
        return new TestCertificates(root, issuing, server, client);
    }

    /// <summary>HTTPS for the stand-in with the server certificate; <paramref name="requireClientCertificate"/>: mutual TLS with these CAs.</summary>
    public StandInTls ServerTls(bool requireClientCertificate) => new(Server, Issuing, Root, requireClientCertificate);

    /// <summary>The CA bundle (root and issuing CA) as a PEM file (<c>ca_file</c>), as a CA hands it out.</summary>
    public string WriteCaPem(string directory) => Write(directory, "ca.pem", Root.ExportCertificatePem() + "\n" + Issuing.ExportCertificatePem());

    /// <summary>Only the root CA as a PEM file: not enough for Confluent's client when the registry does not send the root.</summary>
    public string WriteRootPem(string directory) => Write(directory, "root.pem", Root.ExportCertificatePem());

    /// <summary>The client certificate and its key as PEM files; the key encrypted (PKCS#8) with <paramref name="keyPassword"/> when given.</summary>
    public (string CertFile, string KeyFile) WriteClientPem(string directory, string? keyPassword)
    {
        using var key = Client.GetECDsaPrivateKey()!;
        var keyPem = keyPassword is null
            ? key.ExportPkcs8PrivateKeyPem()
            : key.ExportEncryptedPkcs8PrivateKeyPem(keyPassword, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10_000));
        return (Write(directory, "client.crt", Client.ExportCertificatePem()), Write(directory, "client.key", keyPem));
    }

    /// <summary>The client certificate and its key as a PKCS#12 file (<c>client_keystore</c>).</summary>
    public string WriteClientPkcs12(string directory, string password)
    {
        var path = Path.Combine(directory, "client.p12");
        File.WriteAllBytes(path, Client.Export(X509ContentType.Pkcs12, password));
        return path;
    }

    private static X509Certificate2 IssueCa(X509Certificate2 root, string subject, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var signed = request.Create(root, now, now.AddDays(1), [9, 0x5e, 0x71]);
        return signed.CopyWithPrivateKey(key);
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject, string usage, X509Extension? names, DateTimeOffset now, byte serial)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        if (names is not null)
        {
            request.CertificateExtensions.Add(names);
        }

        using var signed = request.Create(ca, now, now.AddDays(1), [serial, 0x5e, 0x71]);
        return signed.CopyWithPrivateKey(key);
    }

    private static string Write(string directory, string name, string text)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        Root.Dispose();
        Issuing.Dispose();
        Server.Dispose();
        Client.Dispose();
    }
}
