using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Testcontainers.Kafka;

namespace SinkConnector.Testing;

/// <summary>
/// Kafka for tests, chosen by <see cref="KafkaSelection"/>: a broker named by <c>SINK_TEST_KAFKA</c>, a throwaway
/// broker from <c>KAFKA_HOME</c>, or librdkafka's mock cluster (3 brokers). Only fault-injection tests touch
/// <see cref="Mock"/> (they start a mock of their own with <see cref="StartMock"/>, whatever the run's choice);
/// everything else goes through the Kafka protocol and works against any of them.
/// </summary>
public sealed class KafkaTestCluster : IDisposable, IAsyncDisposable
{
    private readonly KafkaContainer? _container;

    private KafkaTestCluster(string bootstrapServers, string description, MockKafkaCluster? mock = null, LocalKafkaBroker? broker = null, KafkaContainer? container = null)
    {
        BootstrapServers = bootstrapServers;
        Description = description;
        Mock = mock;
        LocalBroker = broker;
        _container = container;
    }

    public string BootstrapServers { get; }

    /// <summary>Which Kafka this is, for the run's report.</summary>
    public string Description { get; }

    /// <summary>The mock cluster, or null against a real broker.</summary>
    public MockKafkaCluster? Mock { get; }

    /// <summary>The broker this run started from <c>KAFKA_HOME</c> (it can be stopped and started again), or null.</summary>
    public LocalKafkaBroker? LocalBroker { get; }

    /// <summary>librdkafka settings every test client and sink uses: the mock answers fetches instantly only with a short wait.</summary>
    public static IReadOnlyDictionary<string, string> ClientProperties { get; } = new Dictionary<string, string>
    {
        ["fetch.wait.max.ms"] = "5",
        // The mock cluster waits up to the session timeout for members to rejoin on every rebalance.
        ["session.timeout.ms"] = "6000",
        ["heartbeat.interval.ms"] = "500",
        ["topic.metadata.refresh.interval.ms"] = "2000",
    };

    /// <summary>The run's Kafka: see <see cref="KafkaSelection"/>. A local broker takes 11-30 s to start: one per run.</summary>
    public static Task<KafkaTestCluster> StartAsync(CancellationToken cancellationToken = default) =>
        StartAsync(KafkaSelection.FromEnvironment(), cancellationToken);

    /// <summary>The Kafka <paramref name="choice"/> names (the chaos soak chooses with its own <c>--kafka</c> option).</summary>
    public static async Task<KafkaTestCluster> StartAsync(KafkaChoice choice, CancellationToken cancellationToken = default)
    {
        switch (choice.Source)
        {
            case KafkaSource.External:
                return External(choice.Location!, choice.Reason);
            case KafkaSource.LocalBroker:
                var broker = await LocalKafkaBroker.StartAsync(choice.Location!, cancellationToken);
                return new KafkaTestCluster(broker.BootstrapServers, $"{broker.Description} ({choice.Reason})", broker: broker);
            case KafkaSource.Container:
                // Testcontainers' thin branch, for laptops with Docker; these machines have no container engine, so
                // only the choice of it is tested here (KafkaSelectionTests).
                var container = new KafkaBuilder(choice.Location!).Build();
                await container.StartAsync(cancellationToken);
                return new KafkaTestCluster(container.GetBootstrapAddress(), $"Kafka in a container ({choice.Location}; {choice.Reason})", container: container);
            default:
                var mock = new MockKafkaCluster(brokers: 3);
                return new KafkaTestCluster(mock.BootstrapServers, $"{MockDescription} ({choice.Reason})", mock: mock);
        }
    }

    /// <summary>A broker that is already running, named by its bootstrap servers.</summary>
    public static KafkaTestCluster External(string bootstrapServers, string reason) =>
        new(bootstrapServers, $"the broker at {bootstrapServers} ({reason})");

    /// <summary>A mock cluster of the caller's own, for tests that inject broker faults.</summary>
    public static KafkaTestCluster StartMock()
    {
        var mock = new MockKafkaCluster(brokers: 3);
        return new KafkaTestCluster(mock.BootstrapServers, MockDescription, mock: mock);
    }

    private const string MockDescription = "librdkafka's mock cluster (3 brokers)";

    /// <summary>Creates a topic with a unique name starting with <paramref name="prefix"/>.</summary>
    public async Task<string> CreateTopicAsync(string prefix, int partitions)
    {
        var topic = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
        await CreateTopicNamedAsync(topic, partitions);
        return topic;
    }

    /// <summary>Creates a topic with exactly this name (one replica): for harnesses that own their Kafka.</summary>
    public async Task CreateTopicNamedAsync(string topic, int partitions)
    {
        if (Mock is not null)
        {
            Mock.CreateTopic(topic, partitions);
            return;
        }

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }]);
    }

    /// <param name="recordBatchBytes">The producer's <c>batch.size</c>; librdkafka's default (1 MB) puts a partition's
    /// whole backlog into one record batch.</param>
    public IProducer<byte[]?, byte[]?> CreateProducer(int? recordBatchBytes = null) =>
        new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig
        {
            BootstrapServers = BootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            BatchSize = recordBatchBytes,
            // Room for the oversized-message tests (the default is 1,000,000 bytes); the local broker takes as much.
            MessageMaxBytes = LocalKafkaBroker.MessageMaxBytes,
        }).Build();

    /// <summary>Produces the messages to explicit partitions and waits until all are acknowledged.</summary>
    public async Task ProduceAsync(
        string topic, IEnumerable<(int Partition, Message<byte[]?, byte[]?> Message)> messages, int? recordBatchBytes = null)
    {
        using var producer = CreateProducer(recordBatchBytes);
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

    /// <summary>Stops what this run started; a container is left to Testcontainers' resource reaper, which removes it when the test process ends.</summary>
    public void Dispose()
    {
        Mock?.Dispose();
        LocalBroker?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }

        Dispose();
    }
}
