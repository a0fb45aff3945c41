using SinkConnector.IntegrationTests;
using SinkConnector.Testing;

[assembly: AssemblyFixture(typeof(TestServices))]

namespace SinkConnector.IntegrationTests;

/// <summary>One PostgreSQL server and one Kafka cluster for the whole test run; each test class gets its own database and topics.</summary>
public sealed class TestServices : IAsyncLifetime
{
    public PostgresServer Postgres { get; private set; } = null!;

    public KafkaTestCluster Kafka { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        // A test host killed by a timeout skips DisposeAsync; the server must not outlive it.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Postgres.StopNow();
        Kafka = KafkaTestCluster.Start();
    }

    public async ValueTask DisposeAsync()
    {
        Kafka.Dispose();
        await Postgres.DisposeAsync();
    }

    /// <summary>Skips a fault-injection test against a real broker, where the mock cluster's controls do not exist.</summary>
    public MockKafkaCluster RequireMock()
    {
        if (Kafka.Mock is null)
        {
            Assert.Skip("fault injection needs librdkafka's mock cluster; SINK_TEST_KAFKA points at a real broker");
        }

        return Kafka.Mock!;
    }
}
