using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>The README's first command, run as a user runs it: its own Postgres, and Kafka chosen as the tests choose it.</summary>
public class QuickStartTests
{
    [Fact]
    public async Task Quick_start_lands_every_sample_order_on_the_kafka_the_environment_names()
    {
        // The same environment the test run sees: KAFKA_HOME (eng/test.sh sets it when ../shared/kafka exists) makes
        // the quick start start a broker of its own from that distribution, as it does for a user.
        var expectedKafka = KafkaSelection.FromEnvironment().Source switch
        {
            KafkaSource.LocalBroker => "broker from",
            KafkaSource.External => "the broker at",
            _ => "mock cluster",
        };
        var quickStart = Path.Combine(AppContext.BaseDirectory, "SinkConnector.QuickStart.dll");

        var (exit, output) = await SinkProcess.RunToEndAsync(
            [Path.Combine(RepositoryFolder.Root, "samples", "config")], timeout: TimeSpan.FromMinutes(4), dllPath: quickStart);

        Assert.True(exit == 0, output);
        Assert.Contains("==> 1000 of 1000 orders landed in public.orders", output, StringComparison.Ordinal);
        Assert.Matches($"Kafka: [^\n]*{expectedKafka}", output);
    }
}
