namespace SinkConnector.Testing;

/// <summary>Where the tests' Kafka comes from, in the order <see cref="KafkaSelection.Choose"/> tries them.</summary>
public enum KafkaSource
{
    /// <summary>A running broker named by <c>SINK_TEST_KAFKA</c> (bootstrap servers).</summary>
    External,

    /// <summary>A throwaway broker started from the Kafka distribution named by <c>KAFKA_HOME</c>.</summary>
    LocalBroker,

    /// <summary>A throwaway broker in a container (Testcontainers.Kafka), when a Docker engine is reachable.</summary>
    Container,

    /// <summary>librdkafka's mock cluster, in the test process.</summary>
    Mock,
}

/// <param name="Location">The bootstrap servers (<see cref="KafkaSource.External"/>), the distribution folder (<see cref="KafkaSource.LocalBroker"/>) or the image (<see cref="KafkaSource.Container"/>).</param>
/// <param name="Reason">Why this source was taken, for the run's report.</param>
public sealed record KafkaChoice(KafkaSource Source, string? Location, string Reason);

/// <summary>
/// The one place that decides which Kafka the tests use: <c>SINK_TEST_KAFKA</c> (a broker that is already
/// running; <c>mock</c> forces the mock cluster) → <c>KAFKA_HOME</c> (local binaries) → a container when a Docker
/// engine is reachable → librdkafka's mock cluster. A pure function of the environment and a look at the file system,
/// so the order itself is unit-tested.
/// </summary>
public static class KafkaSelection
{
    public const string ExternalVariable = "SINK_TEST_KAFKA";
    public const string KafkaHomeVariable = "KAFKA_HOME";

    /// <summary>The image of the container branch (Confluent Platform 7.5 = Apache Kafka 3.5).</summary>
    public const string ContainerImage = "confluentinc/cp-kafka:7.5.12";

    /// <param name="environment">Environment variable lookup.</param>
    /// <param name="isKafkaDistribution">Whether a folder holds a Kafka distribution (<see cref="LocalKafkaBroker.IsDistribution"/>).</param>
    /// <param name="dockerReachable">Whether a Docker engine is there (<see cref="DockerEngine.IsReachable()"/>).</param>
    public static KafkaChoice Choose(Func<string, string?> environment, Func<string, bool> isKafkaDistribution, Func<bool> dockerReachable)
    {
        var external = environment(ExternalVariable);
        if (string.Equals(external, "mock", StringComparison.OrdinalIgnoreCase))
        {
            return new KafkaChoice(KafkaSource.Mock, null, $"{ExternalVariable}=mock");
        }

        if (!string.IsNullOrWhiteSpace(external))
        {
            return new KafkaChoice(KafkaSource.External, external.Trim(), $"{ExternalVariable} is set");
        }

        var home = environment(KafkaHomeVariable);
        if (!string.IsNullOrWhiteSpace(home))
        {
            // A KAFKA_HOME that names no distribution is a mistake to report, not a reason to fall back silently:
            // the run would claim a real broker and test against the mock.
            if (!isKafkaDistribution(home))
            {
                throw new InvalidOperationException(
                    $"{KafkaHomeVariable}={home} is not a Kafka distribution (no libs/kafka_*.jar); unset it to test against the mock cluster");
            }

            return new KafkaChoice(KafkaSource.LocalBroker, Path.GetFullPath(home), $"{KafkaHomeVariable} is set");
        }

        if (dockerReachable())
        {
            return new KafkaChoice(KafkaSource.Container, ContainerImage, $"neither {ExternalVariable} nor {KafkaHomeVariable} is set, a Docker engine is reachable");
        }

        return new KafkaChoice(KafkaSource.Mock, null, $"neither {ExternalVariable} nor {KafkaHomeVariable} is set, no Docker engine");
    }

    /// <summary>The choice for this process's environment and file system.</summary>
    public static KafkaChoice FromEnvironment() => Choose(Environment.GetEnvironmentVariable, LocalKafkaBroker.IsDistribution, DockerEngine.IsReachable);
}
