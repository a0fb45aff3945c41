using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace SinkConnector.Testing;

/// <summary>
/// Kafka for tests: librdkafka's mock cluster (3 brokers) by default, or the broker named by
/// <c>SINK_TEST_KAFKA</c>. Only fault-injection tests touch <see cref="Mock"/>; everything else goes through
/// the Kafka protocol and works against either.
/// </summary>
public sealed class KafkaTestCluster : IDisposable
{
    private KafkaTestCluster(string bootstrapServers, MockKafkaCluster? mock)
    {
        BootstrapServers = bootstrapServers;
        Mock = mock;
    }

    public string BootstrapServers { get; }

    /// <summary>The mock cluster, or null against a real broker.</summary>
    public MockKafkaCluster? Mock { get; }

    /// <summary>librdkafka settings every test client and sink uses: the mock answers fetches instantly only with a short wait.</summary>
    public static IReadOnlyDictionary<string, string> ClientProperties { get; } = new Dictionary<string, string>
    {
        ["fetch.wait.max.ms"] = "5",
        // The mock cluster waits up to the session timeout for members to rejoin on every rebalance.
        ["session.timeout.ms"] = "6000",
        ["heartbeat.interval.ms"] = "500",
        ["topic.metadata.refresh.interval.ms"] = "2000",
    };

    public static KafkaTestCluster Start()
    {
        var external = Environment.GetEnvironmentVariable("SINK_TEST_KAFKA");
        if (!string.IsNullOrEmpty(external))
        {
            return new KafkaTestCluster(external, null);
        }

        var mock = new MockKafkaCluster(brokers: 3);
        return new KafkaTestCluster(mock.BootstrapServers, mock);
    }

    /// <summary>Creates a topic with a unique name starting with <paramref name="prefix"/>.</summary>
    public async Task<string> CreateTopicAsync(string prefix, int partitions)
    {
        var topic = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
        if (Mock is not null)
        {
            Mock.CreateTopic(topic, partitions);
            return topic;
        }

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }]);
        return topic;
    }

    public IProducer<byte[]?, byte[]?> CreateProducer() =>
        new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig
        {
            BootstrapServers = BootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            // Room for the oversized-message tests (the default is 1,000,000 bytes).
            MessageMaxBytes = 8_000_000,
        }).Build();

    /// <summary>Produces the messages to explicit partitions and waits until all are acknowledged.</summary>
    public async Task ProduceAsync(string topic, IEnumerable<(int Partition, Message<byte[]?, byte[]?> Message)> messages)
    {
        using var producer = CreateProducer();
        var failures = 0;
        foreach (var (partition, message) in messages)
        {
            producer.Produce(new TopicPartition(topic, partition), message, report =>
            {
                if (report.Error.IsError)
                {
                    Interlocked.Increment(ref failures);
                }
            });
        }

        await Task.Run(() => producer.Flush(TimeSpan.FromSeconds(60)));
        if (failures > 0)
        {
            throw new InvalidOperationException($"{failures} messages were not acknowledged by Kafka");
        }
    }

    public void Dispose() => Mock?.Dispose();
}
