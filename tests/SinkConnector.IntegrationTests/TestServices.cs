using SinkConnector.IntegrationTests;
using SinkConnector.Testing;

[assembly: AssemblyFixture(typeof(TestServices))]

namespace SinkConnector.IntegrationTests;

/// <summary>
/// One PostgreSQL server and one Kafka (see <see cref="KafkaSelection"/>) for the whole test run; each test class
/// gets its own database and topics. Fault-injection tests use a mock cluster of their own whatever this Kafka is.
/// </summary>
public sealed class TestServices : IAsyncLifetime
{
    /// <summary>A file the run appends to which Kafka each part of the suite used (eng/test.sh prints it).</summary>
    public const string ReportVariable = "SINK_TEST_SERVICES_REPORT";

    public PostgresServer Postgres { get; private set; } = null!;

    public KafkaTestCluster Kafka { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        // A test host killed by a timeout skips DisposeAsync; the server must not outlive it.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Postgres.StopNow();
        Kafka = await KafkaTestCluster.StartAsync();
        // On an orderly exit without DisposeAsync; a killed host leaves a local broker to its watchdog.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Kafka.Dispose();
        Report($"integration tests: {Kafka.Description}; {Postgres.Description}");
    }

    public async ValueTask DisposeAsync()
    {
        await Kafka.DisposeAsync();
        await Postgres.DisposeAsync();
    }

    /// <summary>Appends a line to the run's service report, if one was asked for.</summary>
    public static void Report(string line)
    {
        if (Environment.GetEnvironmentVariable(ReportVariable) is { Length: > 0 } path)
        {
            lock (typeof(TestServices))
            {
                File.AppendAllText(path, line + Environment.NewLine);
            }
        }
    }
}
