using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace SinkConnector.Testing;

/// <summary>
/// HTTPS for the registry stand-in: its server certificate, sent with the issuing CA that signed it (a server built on
/// .NET never sends the root: SslStreamCertificateContext trims it) and, when <see cref="RequireClientCertificate"/>,
/// a client certificate from the same CAs required of every connection (mutual TLS). <see cref="ClientSubjects"/>
/// lists the client certificates accepted.
/// </summary>
public sealed record StandInTls(X509Certificate2 Server, X509Certificate2 Issuing, X509Certificate2 Root, bool RequireClientCertificate)
{
    private readonly ConcurrentQueue<string> _clientSubjects = new();

    public IReadOnlyCollection<string> ClientSubjects => _clientSubjects;

    internal HttpsConnectionAdapterOptions HttpsOptions() => new()
    {
        ServerCertificate = Server,
        ServerCertificateChain = [Issuing, Root],
        ClientCertificateMode = RequireClientCertificate ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.NoCertificate,
        ClientCertificateValidation = (certificate, _, _) => IsIssuedByTheCas(certificate),
    };

    private bool IsIssuedByTheCas(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Root);
        chain.ChainPolicy.ExtraStore.Add(Issuing);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var valid = chain.Build(certificate);
        if (valid)
        {
            _clientSubjects.Enqueue(certificate.Subject);
        }

        return valid;
    }
}
