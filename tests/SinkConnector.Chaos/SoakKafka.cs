using SinkConnector.Testing;

namespace SinkConnector.Chaos;

/// <summary>The soak's <c>--kafka</c> option.</summary>
internal enum KafkaOption
{
    /// <summary>Chosen like the tests' Kafka (<see cref="KafkaSelection"/>): a broker from <c>KAFKA_HOME</c>, else the mock.</summary>
    Auto,

    /// <summary>librdkafka's mock cluster in the harness process, with its request-error and broker-down faults.</summary>
    Mock,

    /// <summary>A throwaway Apache Kafka broker from <c>KAFKA_HOME</c>, stopped and killed by the faults.</summary>
    Broker,
}

/// <summary>
/// Which Kafka the soak runs against. The choice goes through <see cref="KafkaSelection"/>, the tests' one place for
/// it; only a Kafka the soak starts itself can take its faults, so a running broker (<c>SINK_TEST_KAFKA</c>) is refused.
/// </summary>
internal static class SoakKafka
{
    public static KafkaChoice Choose(KafkaOption option)
    {
        if (option == KafkaOption.Mock)
        {
            return new KafkaChoice(KafkaSource.Mock, null, "--kafka mock");
        }

        var choice = KafkaSelection.FromEnvironment();
        return (choice.Source, option) switch
        {
            (KafkaSource.External, _) => throw new InvalidOperationException(
                $"the soak stops and kills its own broker: unset {KafkaSelection.ExternalVariable} (set {KafkaSelection.KafkaHomeVariable}, or pass --kafka mock)"),
            (KafkaSource.Container, _) => throw new InvalidOperationException(
                $"the soak stops and kills its own broker, which it starts from a Kafka distribution: set {KafkaSelection.KafkaHomeVariable}, or pass --kafka mock"),
            (KafkaSource.Mock, KafkaOption.Broker) => throw new InvalidOperationException(
                $"--kafka broker needs {KafkaSelection.KafkaHomeVariable} (a Kafka distribution; eng/chaos.sh uses ../shared/kafka/kafka_2.11-2.4.0 when it exists)"),
            _ => choice,
        };
    }

    /// <summary>The option that makes the same choice again, for the reproduce command.</summary>
    public static string Flag(KafkaSource source) => source == KafkaSource.Mock ? "--kafka mock" : "--kafka broker";
}
