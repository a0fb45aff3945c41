using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Configuration.Loading;
using SinkConnector.Testing;

namespace SinkConnector.Benchmarks;

/// <summary>
/// What every scenario shares: one throwaway PostgreSQL server and database, Kafka (a throwaway broker from
/// <c>KAFKA_HOME</c>, else or with <c>--kafka mock</c> librdkafka's mock cluster in this process; see
/// <see cref="KafkaSelection"/>), one topic per workload size, and the sink configuration every Kafka consumer takes its settings from.
/// </summary>
public sealed class BenchEnvironment : IAsyncDisposable
{
    // The mock cluster answers a fetch at once only with a short wait (see docs/development.md, Tests); nothing else
    // is tuned: session timeouts and fetch sizes stay at librdkafka's defaults. A real broker gets no setting at all.
    private static readonly IReadOnlyDictionary<string, string> s_mockKafkaProperties = new Dictionary<string, string>
    {
        ["fetch.wait.max.ms"] = "5",
    };

    private readonly Dictionary<int, string> _topics = [];
    private readonly Dictionary<int, string> _avroTopics = [];
    private readonly Dictionary<int, string> _fanOutTopics = [];
    private readonly string _root;
    private readonly string _runId = DateTime.UtcNow.ToString("HHmmss", System.Globalization.CultureInfo.InvariantCulture);

    private BenchEnvironment(BenchOptions options, PostgresServer postgres, BenchDatabase database, KafkaTestCluster kafka, string root)
    {
        Options = options;
        Postgres = postgres;
        Database = database;
        Kafka = kafka;
        _root = root;
        Connector = LoadConfig(WriteSinkConfig("bench-template", "bench-template", upsert: false)).Connector;
    }

    public BenchOptions Options { get; }

    /// <summary>librdkafka settings of every consumer: the mock cluster's short fetch wait plus any --kafka-property.</summary>
    public IReadOnlyDictionary<string, string> KafkaProperties =>
        (Kafka.Mock is null ? new Dictionary<string, string>() : s_mockKafkaProperties).Concat(Options.KafkaProperties).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value);

    /// <summary><see cref="KafkaProperties"/> with one run's settings on top (they win).</summary>
    public IReadOnlyDictionary<string, string> KafkaPropertiesWith(IReadOnlyDictionary<string, string> extra) =>
        KafkaProperties.Concat(extra).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value);

    public PostgresServer Postgres { get; }

    public BenchDatabase Database { get; }

    public KafkaTestCluster Kafka { get; }

    /// <summary>The schema registry of the Avro scenario (a stand-in in this process: no registry server can be installed here); null when it does not run.</summary>
    public SchemaRegistryStandIn? Registry { get; private set; }

    /// <summary>The sink's connector settings (sink.yaml as the sink scenarios use it); the in-process consumers use its Kafka settings.</summary>
    public ConnectorSettings Connector { get; }

    public static async Task<BenchEnvironment> StartAsync(BenchOptions options)
    {
        var postgres = await PostgresServer.StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => postgres.StopNow();
        var database = new BenchDatabase(await postgres.CreateDatabaseAsync("bench"));
        await database.CreateTablesAsync();
        await database.FindServerProcessAsync();
        var kafka = options.ForceMock ? KafkaTestCluster.StartMock() : await KafkaTestCluster.StartAsync();
        options = options.WithDefaultBacklog(realBroker: kafka.Mock is null);
        var root = Directory.CreateTempSubdirectory("sink-bench-").FullName;
        var env = new BenchEnvironment(options, postgres, database, kafka, root);
        if (options.Scenarios.Contains(Scenario.SinkAvro))
        {
            env.Registry = SchemaRegistryStandIn.Start();
        }

        // The connector's own tables (sink.offsets, sink.dead_letters), the way operators create them.
        var (exit, output) = await SinkProcess.RunToEndAsync(["migrate", "--config", Path.Combine(root, "bench-template")], env.SinkEnvironment(debug: false));
        if (exit != 0)
        {
            throw new InvalidOperationException($"sink migrate exited {exit}:\n{output}");
        }

        return env;
    }

    public string Topic(OrderWorkload workload) => _topics[workload.Events.Count];

    public string AvroTopic(OrderWorkload workload) => _avroTopics[workload.Events.Count];

    public string FanOutTopic(OrderWorkload workload) => _fanOutTopics[workload.Events.Count];

    public string GroupId(string scenario, OrderWorkload workload, int repetition) => $"bench-{_runId}-{scenario}-{workload.Events.Count}-r{repetition}";

    /// <summary>Creates the workload's topic (and its Avro twin for the Avro scenario) and produces all of it, checking that the broker kept every message.</summary>
    public async Task ProduceAsync(OrderWorkload workload)
    {
        _topics[workload.Events.Count] = await ProduceAsync($"orders-{workload.Events.Count}", workload, ToAsyncEnumerable(workload.Messages()));
        if (Registry is not null)
        {
            using var avro = new AvroOrders(Registry.Url);
            var topic = $"orders-avro-{workload.Events.Count}";
            _avroTopics[workload.Events.Count] = await ProduceAsync(topic, workload, avro.MessagesAsync(topic, workload));
        }

        if (Options.Scenarios.Contains(Scenario.SinkFanOut))
        {
            _fanOutTopics[workload.Events.Count] = await ProduceAsync($"orders-fanout-{workload.Events.Count}", workload, ToAsyncEnumerable(Scenarios.FanOut.Messages(workload)));
        }
    }

    private static async IAsyncEnumerable<(int Partition, Message<byte[]?, byte[]?> Message)> ToAsyncEnumerable(IEnumerable<(int, Message<byte[]?, byte[]?>)> messages)
    {
        foreach (var message in messages)
        {
            yield return message;
        }

        await Task.CompletedTask;
    }

    private async Task<string> ProduceAsync(string name, OrderWorkload workload, IAsyncEnumerable<(int Partition, Message<byte[]?, byte[]?> Message)> messages)
    {
        var topic = await Kafka.CreateTopicAsync(name, workload.Partitions);
        using (var producer = Kafka.CreateProducer())
        {
            var failures = 0;
            await foreach (var (partition, message) in messages)
            {
                while (true)
                {
                    try
                    {
                        producer.Produce(new TopicPartition(topic, partition), message, report =>
                        {
                            if (report.Error.IsError)
                            {
                                Interlocked.Increment(ref failures);
                            }
                        });
                        break;
                    }
                    catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(50));
                    }
                }
            }

            await Task.Run(() => producer.Flush(TimeSpan.FromMinutes(5)));
            if (failures > 0)
            {
                throw new InvalidOperationException($"{failures} messages were not acknowledged by Kafka");
            }
        }

        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(ConsumerSettings.Build(Connector)).Build();
        long stored = 0;
        for (var p = 0; p < workload.Partitions; p++)
        {
            var offsets = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(30));
            if (offsets.Low.Value != 0)
            {
                throw new InvalidOperationException($"{topic} [{p}] starts at offset {offsets.Low.Value}: the mock cluster's retention dropped messages; use fewer");
            }

            stored += offsets.High.Value;
        }

        if (stored != workload.Events.Count)
        {
            throw new InvalidOperationException($"{topic} holds {stored} messages, expected {workload.Events.Count}");
        }

        return topic;
    }

    /// <summary>A config directory for one sink run: its own group id (so it starts from a full backlog), the mode's table.</summary>
    /// <param name="maxLatency"><c>batch.max_latency</c>: 200 ms by default.</param>
    /// <param name="kafkaProperties">The sink's librdkafka settings: <see cref="KafkaProperties"/> by default.</param>
    /// <param name="avro">Values in Avro: <c>encoding: avro</c> and the registry stand-in in sink.yaml.</param>
    public string WriteSinkConfig(string groupId, string topic, bool upsert, TimeSpan? maxLatency = null, IReadOnlyDictionary<string, string>? kafkaProperties = null, bool avro = false)
    {
        var directory = Path.Combine(_root, groupId);
        Directory.CreateDirectory(Path.Combine(directory, "mappings"));
        var latency = (maxLatency ?? TimeSpan.FromMilliseconds(200)).TotalMilliseconds;
        File.WriteAllText(Path.Combine(directory, "sink.yaml"), SinkYaml.Render(
            groupId, kafkaProperties ?? KafkaProperties, $"max_rows: {Options.BatchRows}\n  max_bytes: 16MiB\n  max_latency: {latency:F0}ms", shutdownGrace: "30s")
            + (avro ? $"\nschema_registry:\n  url: {Registry!.Url}\n" : ""));
        File.WriteAllText(Path.Combine(directory, "mappings", "orders.yaml"),
            $$"""
            topic: {{topic}}
            table: {{BenchDatabase.Table(upsert)}}
            format: json
            {{(avro ? "encoding: avro" : "")}}
            mode: {{(upsert ? "upsert" : "insert")}}
            {{(upsert ? "key: [id]" : "")}}
            on_error: fail
            {{OrderMappingColumns.Yaml}}
            """);
        return directory;
    }

    public SinkConfig LoadConfig(string directory)
    {
        var environment = SinkEnvironment(debug: false);
        return ConfigLoader.Load(directory, name => environment.TryGetValue(name, out var value) ? value : null);
    }

    /// <summary>What the sink's config refers to; Debug logging adds the per-batch "Committed batch" lines.</summary>
    public IReadOnlyDictionary<string, string> SinkEnvironment(bool debug) => new Dictionary<string, string>(Options.SinkEnvironment)
    {
        ["KAFKA_BOOTSTRAP"] = Kafka.BootstrapServers,
        ["SINK_POSTGRES"] = Database.ConnectionString,
        ["SINK_LOG_LEVEL"] = debug ? "Debug" : "Information",
    };

    /// <summary>CPU seconds used so far by this process (mock brokers, in-process clients) and by the Postgres server.</summary>
    public (double Bench, double Postgres) CpuNow() => (ProcessStats.CpuSeconds(Environment.ProcessId), Database.ServerCpuSeconds());

    public async ValueTask DisposeAsync()
    {
        if (Registry is not null)
        {
            await Registry.DisposeAsync();
        }

        Kafka.Dispose();
        await Postgres.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }
}
