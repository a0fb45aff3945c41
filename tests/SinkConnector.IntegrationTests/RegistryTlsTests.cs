using System.Buffers.Binary;
using System.Text;
using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// The <c>sink</c> process against an HTTPS schema registry (the stand-in on Kestrel with a CA made in the test):
/// trusted through <c>ca_file</c>, waited for (never dead-lettered) when it cannot be trusted, and with mutual TLS
/// through a PEM client certificate with an encrypted key and through a PKCS#12 keystore.
/// </summary>
public sealed class RegistryTlsTests(TestServices services)
{
    private const string EventSchema = """{"type": "object", "properties": {"id": {"type": "integer"}, "body": {"type": "string"}}}""";
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_https_registry_is_trusted_through_ca_file_and_without_it_the_sink_waits_naming_the_certificate_and_dead_letters_nothing()
    {
        using var certificates = TestCertificates.Create("registry-tls");
        await using var registry = SchemaRegistryStandIn.Start(certificates.ServerTls(requireClientCertificate: false));
        await using var bed = await SinkTestBed.CreateAsync(services, "registry_tls_ca", partitions: 1);
        await bed.WriteMappingAsync("events.yaml", JsonSchemaEventsMapping(bed.Topic));
        await bed.ProduceAsync(bed.Topic, Events(registry, bed.Topic, 0, 20));

        await bed.EnableSchemaRegistryAsync(registry.Url);
        using (var untrusting = bed.StartSink())
        {
            await untrusting.WaitForOutputAsync("the schema registry did not answer for schema id", s_wait);
            Assert.Contains("certificate", untrusting.Output, StringComparison.OrdinalIgnoreCase);
            untrusting.Signal(SinkProcess.SIGTERM);
            await untrusting.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM public.events"));
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));

        await bed.EnableSchemaRegistryAsync(registry.Url, $"ca_file: {certificates.WriteCaPem(bed.ConfigDirectory)}");
        await bed.RunToCompletionAsync(20);
        await bed.AssertExactlyOnceAsync(20);
    }

    [Fact]
    public async Task A_registry_requiring_client_certificates_accepts_a_pem_certificate_with_an_encrypted_key_and_a_pkcs12_keystore()
    {
        using var certificates = TestCertificates.Create("registry-mtls");
        var tls = certificates.ServerTls(requireClientCertificate: true);
        await using var registry = SchemaRegistryStandIn.Start(tls);
        await using var bed = await SinkTestBed.CreateAsync(services, "registry_mtls", partitions: 1);
        await bed.WriteMappingAsync("events.yaml", JsonSchemaEventsMapping(bed.Topic));
        var caFile = certificates.WriteCaPem(bed.ConfigDirectory);
        var (certFile, keyFile) = certificates.WriteClientPem(bed.ConfigDirectory, keyPassword: "pem-secret");
        var keystore = certificates.WriteClientPkcs12(bed.ConfigDirectory, "p12-secret");
        var environment = new Dictionary<string, string>(bed.Environment) { ["SR_KEY_PASSWORD"] = "pem-secret", ["SR_KEYSTORE_PASSWORD"] = "p12-secret" };

        await bed.ProduceAsync(bed.Topic, Events(registry, bed.Topic, 0, 10));
        await bed.EnableSchemaRegistryAsync(registry.Url, $"ca_file: {caFile}",
            $"client_cert_file: {certFile}", $"client_key_file: {keyFile}", "client_key_password: ${SR_KEY_PASSWORD}");
        await RunToCompletionAsync(bed, environment, 10);
        Assert.Contains(tls.ClientSubjects, s => s.Contains("registry-mtls sink client", StringComparison.Ordinal));
        var acceptedWithPem = tls.ClientSubjects.Count;

        await bed.ProduceAsync(bed.Topic, Events(registry, bed.Topic, 10, 10, schemaVersion: 2));
        await bed.EnableSchemaRegistryAsync(registry.Url, $"ca_file: {caFile}", $"client_keystore: {keystore}", "client_keystore_password: ${SR_KEYSTORE_PASSWORD}");
        await RunToCompletionAsync(bed, environment, 20);
        Assert.True(tls.ClientSubjects.Count > acceptedWithPem, "the PKCS#12 run should have presented its certificate");
        await bed.AssertExactlyOnceAsync(20);
    }

    private static string JsonSchemaEventsMapping(string topic) =>
        SinkTestBed.EventsMapping(topic).Replace("format: json", "format: json_schema", StringComparison.Ordinal);

    /// <summary>Events as the bed's JSON ones, in the JSON Schema wire format of a schema registered directly (no serializer: it would need the TLS settings too).</summary>
    private static List<(int, Message<byte[]?, byte[]?>)> Events(SchemaRegistryStandIn registry, string topic, int from, int count, int schemaVersion = 1)
    {
        // A second version (another description) gives the second run a schema id the sink has not fetched yet.
        var id = registry.Register(topic + "-value", EventSchema.Replace("{\"type\": \"object\"", $"{{\"description\": \"v{schemaVersion}\", \"type\": \"object\"", StringComparison.Ordinal), "JSON");
        var header = new byte[5];
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(1), id);
        return [.. Enumerable.Range(from, count).Select(i => (0, new Message<byte[]?, byte[]?>
        {
            Value = [.. header, .. Encoding.UTF8.GetBytes($$"""{"id":{{i}},"body":"event {{i}}","amount":"{{i}}.25"}""")],
        }))];
    }

    private static async Task RunToCompletionAsync(SinkTestBed bed, IReadOnlyDictionary<string, string> environment, long total)
    {
        using var sink = SinkProcess.Start(["run", "--config", bed.ConfigDirectory], environment);
        await bed.WaitForCommittedAsync(total, s_wait, () => sink.Output);
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, sink.Output);
    }
}
