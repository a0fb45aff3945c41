using SinkConnector.Configuration;
using SinkConnector.Failures;
using SinkConnector.Registry;
using SinkConnector.Testing;

namespace SinkConnector.UnitTests.Registry;

/// <summary>The registry client against the stand-in serving HTTPS with a CA made in the test, asking for client certificates.</summary>
public sealed class RegistryTlsClientTests : IAsyncLifetime, IDisposable
{
    private readonly TestCertificates _certificates = TestCertificates.Create("client-tls");
    private readonly string _directory = Directory.CreateTempSubdirectory("sink-registry-tls-").FullName;
    private SchemaRegistryStandIn _registry = null!;
    private StandInTls _tls = null!;

    public ValueTask InitializeAsync()
    {
        _tls = _certificates.ServerTls(requireClientCertificate: true);
        _registry = SchemaRegistryStandIn.Start(_tls);
        _registry.Register("orders-value", """{"type": "object", "properties": {"id": {"type": "integer"}}}""", "JSON");
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await _registry.DisposeAsync();

    public void Dispose()
    {
        _certificates.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private SchemaRegistrySettings Settings() => new()
    {
        Urls = [_registry.Url], CaFile = _certificates.WriteCaPem(_directory), RequestTimeout = TimeSpan.FromSeconds(5),
    };

    [Theory]
    [InlineData(null)]
    [InlineData("k3y")]
    public async Task A_pem_client_certificate_and_key_are_presented_to_a_registry_that_requires_one(string? keyPassword)
    {
        var (certFile, keyFile) = _certificates.WriteClientPem(_directory, keyPassword);
        using var schemas = SchemaRegistryClients.Create(Settings() with { ClientCertFile = certFile, ClientKeyFile = keyFile, ClientKeyPassword = keyPassword });

        var latest = await schemas.GetLatestAsync("orders-value", TestContext.Current.CancellationToken);

        Assert.Equal("JSON", latest?.Type);
        Assert.Contains(_tls.ClientSubjects, s => s.Contains("client-tls sink client", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_pkcs12_keystore_is_presented_as_well()
    {
        using var schemas = SchemaRegistryClients.Create(Settings() with
        {
            ClientKeystoreFile = _certificates.WriteClientPkcs12(_directory, "p12"), ClientKeystorePassword = "p12",
        });

        Assert.NotNull(await schemas.GetLatestAsync("orders-value", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Without_a_client_certificate_the_registry_is_unavailable_not_the_message_s_fault()
    {
        using var schemas = SchemaRegistryClients.Create(Settings());

        await Assert.ThrowsAsync<SchemaRegistryUnavailableException>(() => schemas.GetLatestAsync("orders-value", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Without_the_ca_file_the_registry_is_unavailable_and_the_reason_names_the_certificate()
    {
        var (certFile, keyFile) = _certificates.WriteClientPem(_directory, null);
        using var schemas = SchemaRegistryClients.Create(Settings() with { CaFile = null, ClientCertFile = certFile, ClientKeyFile = keyFile });

        var error = await Assert.ThrowsAsync<SchemaRegistryUnavailableException>(() => schemas.GetLatestAsync("orders-value", TestContext.Current.CancellationToken));

        Assert.Contains("certificate", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_ca_file_with_only_the_root_is_not_enough_when_the_registry_does_not_send_its_root()
    {
        // Confluent's client (2.16) accepts an untrusted chain only if one of the certificates the handshake brought is
        // in ca_file; the root is not among them unless the registry sends it, and .NET does not look for it in ca_file.
        var (certFile, keyFile) = _certificates.WriteClientPem(_directory, null);
        using var schemas = SchemaRegistryClients.Create(Settings() with { CaFile = _certificates.WriteRootPem(_directory), ClientCertFile = certFile, ClientKeyFile = keyFile });

        var error = await Assert.ThrowsAsync<SchemaRegistryUnavailableException>(() => schemas.GetLatestAsync("orders-value", TestContext.Current.CancellationToken));

        Assert.Contains("RemoteCertificateValidationCallback", error.Message, StringComparison.Ordinal);
    }
}
