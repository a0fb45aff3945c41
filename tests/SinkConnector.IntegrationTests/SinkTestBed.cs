using System.Text;
using Confluent.Kafka;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Configuration.Loading;
using SinkConnector.Engine;
using SinkConnector.Registry;
using SinkConnector.Schema;
using SinkConnector.Testing;
using SinkConnector.Writing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// One sink under test: its own database, topic, config directory and target table <c>public.events</c>,
/// which records where each row came from so exactly-once can be checked row by row.
/// </summary>
public sealed class SinkTestBed : IAsyncDisposable
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);

    private readonly TestServices _services;

    private SinkTestBed(TestServices services, string connectionString, string topic, string configDirectory)
    {
        _services = services;
        ConnectionString = connectionString;
        Topic = topic;
        ConfigDirectory = configDirectory;
    }

    public string ConnectionString { get; }

    public string Topic { get; }

    public string ConfigDirectory { get; }

    public string GroupId => "it-" + Topic;

    /// <param name="postgres">A server of the test's own (to stop or restart it); the shared one by default.</param>
    /// <param name="kafkaProperties">librdkafka settings beyond <see cref="KafkaTestCluster.ClientProperties"/>.</param>
    public static async Task<SinkTestBed> CreateAsync(
        TestServices services, string name, int partitions, string batch = "max_rows: 500\n  max_latency: 50ms",
        PostgresServer? postgres = null, IReadOnlyDictionary<string, string>? kafkaProperties = null)
    {
        var connectionString = await (postgres ?? services.Postgres).CreateDatabaseAsync(name);
        var topic = await services.Kafka.CreateTopicAsync(name.Replace('_', '-'), partitions);
        var directory = Directory.CreateTempSubdirectory("sink-it-").FullName;
        var bed = new SinkTestBed(services, connectionString, topic, directory);
        await bed.WriteConfigAsync(batch, kafkaProperties ?? new Dictionary<string, string>());
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand(
                """
                CREATE TABLE public.events (
                    id bigint NOT NULL, body text NOT NULL, payload jsonb NOT NULL,
                    src_partition integer NOT NULL, src_offset bigint NOT NULL, written_at timestamptz NOT NULL DEFAULT now())
                """, connection);
            await create.ExecuteNonQueryAsync();
        }

        await using var database = new SinkDatabase(bed.Config().Connector.Postgres);
        await SchemaMigrator.MigrateAsync(database, CancellationToken.None);
        return bed;
    }

    private async Task WriteConfigAsync(string batch, IReadOnlyDictionary<string, string> kafkaProperties)
    {
        await File.WriteAllTextAsync(Path.Combine(ConfigDirectory, "sink.yaml"),
            SinkYaml.Render(GroupId, KafkaTestCluster.ClientProperties.Concat(kafkaProperties), batch, shutdownGrace: "20s"));
        Directory.CreateDirectory(Path.Combine(ConfigDirectory, "mappings"));
        await File.WriteAllTextAsync(Path.Combine(ConfigDirectory, "mappings", "events.yaml"), EventsMapping(Topic));
    }

    /// <summary>The bed's mapping of <paramref name="topic"/> into <c>public.events</c>, recording where each row came from.</summary>
    public static string EventsMapping(string topic, string onError = "fail") =>
        $$"""
        topic: {{topic}}
        table: public.events
        format: json
        mode: insert
        on_error: {{onError}}
        columns:
          id:            { from: value.id, type: bigint }
          body:          { from: value.body, type: text }
          payload:       { from: value, type: jsonb }
          src_partition: { from: partition, type: integer }
          src_offset:    { from: offset, type: bigint }
        """;

    /// <summary>The environment the config refers to: connection secrets come from here, never from files.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["KAFKA_BOOTSTRAP"] = _services.Kafka.BootstrapServers,
        ["SINK_POSTGRES"] = ConnectionString,
        ["SINK_LOG_LEVEL"] = "Information",
    };

    public SinkConfig Config() => ConfigLoader.Load(ConfigDirectory, name => Environment.TryGetValue(name, out var v) ? v : null);

    /// <summary>Produces <paramref name="count"/> events round-robin over the partitions; event i has id i.</summary>
    public Task ProduceAsync(int count, int partitions, int firstId = 0) =>
        _services.Kafka.ProduceAsync(Topic, Enumerable.Range(firstId, count).Select(i => (i % partitions, Event(i))));

    public static Message<byte[]?, byte[]?> Event(long id) => new()
    {
        Key = Encoding.UTF8.GetBytes($"k{id}"),
        Value = Encoding.UTF8.GetBytes($$"""{"id":{{id}},"body":"event {{id}}","amount":"{{id}}.25"}"""),
    };

    public SinkProcess StartSink() => SinkProcess.Start(["run", "--config", ConfigDirectory], Environment);

    /// <summary>Runs the sink in this process (for tests that do not kill it); returns its log.</summary>
    /// <param name="writer">Wraps the sink's writer (a test's faults around the real one).</param>
    /// <param name="hungWriteTimeout">The loop's <see cref="ConsumerLoop.HungWriteTimeout"/> instead of twice statement_timeout.</param>
    /// <param name="log">Where the loop logs (for <paramref name="until"/> to watch); a new one by default.</param>
    public async Task<string> RunInProcessAsync(
        Func<Task> until, TimeSpan timeout, Func<IBatchWriter, IBatchWriter>? writer = null, TimeSpan? hungWriteTimeout = null, CollectingLogger? log = null)
    {
        await using var database = new SinkDatabase(Config().Connector.Postgres);
        var config = Config();
        using var schemas = config.Connector.SchemaRegistry is { } registry ? SchemaRegistryClients.Create(registry) : null;
        log ??= new CollectingLogger();
        IBatchWriter sinkWriter = new SinkWriter(config.Mappings, database, schemas);
        using var consumer = new ConsumerLoop(config.Connector, database, writer?.Invoke(sinkWriter) ?? sinkWriter, log);
        consumer.HungWriteTimeout = hungWriteTimeout ?? consumer.HungWriteTimeout;
        using var stop = new CancellationTokenSource();
        var run = Task.Factory.StartNew(() => consumer.RunAsync(stop.Token), TaskCreationOptions.LongRunning).Unwrap();
        try
        {
            await until().WaitAsync(timeout);
        }
        catch (TimeoutException e)
        {
            // The engine's own account of what it did (claims, commits, stalls), as a sink process would have logged it.
            var dump = StallDump.Collect(System.Environment.ProcessId);
            throw new TimeoutException($"{e.Message} (rows: {await RowCountAsync()})\n{dump}the in-process sink's log:\n{log.Text}", e);
        }
        finally
        {
            await stop.CancelAsync();
            await run;
        }

        return log.Text;
    }

    /// <summary>Turns on the HTTP endpoints (<c>http.listen</c>) on a free loopback port; returns their base address.</summary>
    public async Task<Uri> EnableHttpAsync()
    {
        var port = LocalPorts.Free();
        await File.AppendAllTextAsync(Path.Combine(ConfigDirectory, "sink.yaml"), $"\nhttp:\n  listen: 127.0.0.1:{port}\n");
        return new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>
    /// Points the sink at a schema registry (<c>schema_registry.url</c>), with more settings of that section (YAML
    /// lines, e.g. <c>ca_file: /tmp/ca.pem</c>); called again, it replaces the section.
    /// </summary>
    public async Task EnableSchemaRegistryAsync(string url, params string[] settings)
    {
        var file = Path.Combine(ConfigDirectory, "sink.yaml");
        var yaml = await File.ReadAllTextAsync(file);
        var section = yaml.IndexOf("\nschema_registry:\n", StringComparison.Ordinal);
        var end = section < 0 ? -1 : yaml.IndexOf("\n# end of schema_registry\n", section, StringComparison.Ordinal);
        if (section >= 0 && end >= 0)
        {
            yaml = yaml[..section] + yaml[(end + "\n# end of schema_registry\n".Length - 1)..];
        }

        var lines = string.Concat(settings.Select(s => $"  {s}\n"));
        await File.WriteAllTextAsync(file, yaml + $"\nschema_registry:\n  url: {url}\n  request_timeout: 5s\n{lines}# end of schema_registry\n");
    }

    /// <summary>Replaces (or adds) a mapping file, e.g. <c>events.yaml</c> to map the bed's topic differently.</summary>
    public Task WriteMappingAsync(string fileName, string yaml) =>
        File.WriteAllTextAsync(Path.Combine(ConfigDirectory, "mappings", fileName), yaml);

    public Task<string> AddTopicAsync(string prefix, int partitions) => _services.Kafka.CreateTopicAsync(prefix, partitions);

    public Task ProduceAsync(string topic, IEnumerable<(int Partition, Message<byte[]?, byte[]?> Message)> messages) =>
        _services.Kafka.ProduceAsync(topic, messages);

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read) => TestSql.QueryAsync(ConnectionString, sql, read);

    /// <summary>
    /// The dead letters are exactly these, in offset order: each at its offset, of its kind, its error message
    /// containing <c>Reason</c>.
    /// </summary>
    public async Task AssertDeadLettersAsync(params (long Offset, string Kind, string Reason)[] expected)
    {
        var letters = await QueryAsync(
            """SELECT "offset", error_kind, error_message FROM sink.dead_letters ORDER BY 1""",
            r => (Offset: r.GetInt64(0), Kind: r.GetString(1), Message: r.GetString(2)));
        Assert.Equal(expected.Select(e => (e.Offset, e.Kind)), letters.Select(l => (l.Offset, l.Kind)));
        foreach (var (letter, reason) in letters.Zip(expected.Select(e => e.Reason)))
        {
            Assert.Contains(reason, letter.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>The stored next offset of every partition of <paramref name="topic"/> that has committed anything.</summary>
    public async Task<Dictionary<int, long>> StoredOffsetsAsync(string topic) =>
        (await QueryAsync(
            $"SELECT partition, next_offset FROM sink.offsets WHERE group_id = '{GroupId}' AND topic = '{topic}' AND next_offset > 0",
            r => (r.GetInt32(0), r.GetInt64(1))))
        .ToDictionary(p => p.Item1, p => p.Item2);

    /// <summary>Sum of the stored next offsets: how many messages the sink has committed, for topics starting at offset 0.</summary>
    public Task<long> CommittedAsync() => CommittedMessages.SumAsync(ConnectionString, GroupId);

    /// <summary>Waits until the sink has committed at least <paramref name="count"/> messages (rows need not grow: upserts, deletes).</summary>
    public Task WaitForCommittedAsync(long count, TimeSpan timeout, Func<string>? diagnostics = null) =>
        CommittedMessages.WaitForAsync(ConnectionString, GroupId, count, timeout, diagnostics);

    /// <summary>
    /// Starts a sink, waits until it has committed something, and SIGKILLs it a random moment later, so the kill
    /// lands while batches are being consumed and committed.
    /// </summary>
    public async Task RunAndKillAsync(Random random)
    {
        var before = await CommittedAsync();
        using var sink = StartSink();
        await WaitForCommittedAsync(before + 1, s_catchUp, sink.OutputAfterDump);
        await Task.Delay(random.Next(0, 400));
        sink.Signal(SinkProcess.SIGKILL);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Starts a sink, waits until it has committed <paramref name="total"/> messages, stops it with SIGTERM: exit 0.</summary>
    public async Task RunToCompletionAsync(long total)
    {
        using var last = StartSink();
        await WaitForCommittedAsync(total, s_catchUp, last.OutputAfterDump);
        // Everything may have been committed before this process even started: stop it only once it runs.
        await last.WaitForOutputAsync("Claimed", s_catchUp);
        last.Signal(SinkProcess.SIGTERM);
        await last.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(last.ExitCode == 0, last.Output);
    }

    public Task<long> ScalarAsync(string sql) => TestSql.ScalarAsync(ConnectionString, sql);

    public Task<long> RowCountAsync() => ScalarAsync("SELECT count(*) FROM public.events");

    /// <summary>Waits until the table holds at least <paramref name="count"/> rows.</summary>
    public async Task WaitForRowsAsync(long count, TimeSpan timeout, Func<string>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        long rows;
        while ((rows = await RowCountAsync()) < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{rows} of {count} rows after {timeout}.\n{diagnostics?.Invoke()}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>
    /// The exactly-once check: every produced id 0..count-1 exactly once, each row's content equal to what was
    /// produced, and the stored offsets covering exactly what was written.
    /// </summary>
    public async Task AssertExactlyOnceAsync(int count)
    {
        Assert.Equal(count, await RowCountAsync());
        Assert.Equal(count, await ScalarAsync("SELECT count(DISTINCT id) FROM public.events"));
        Assert.Equal(count, await ScalarAsync("SELECT count(DISTINCT (src_partition, src_offset)) FROM public.events"));
        Assert.Equal(0, await ScalarAsync($"SELECT count(*) FROM public.events WHERE id < 0 OR id >= {count}"));
        Assert.Equal(0, await ScalarAsync(
            """
            SELECT count(*) FROM public.events
            WHERE body <> 'event ' || id OR payload <> jsonb_build_object('id', id, 'body', 'event ' || id, 'amount', id || '.25')
            """));
        Assert.Equal(count, await ScalarAsync($"SELECT coalesce(sum(next_offset), 0) FROM sink.offsets WHERE group_id = '{GroupId}'"));
    }

    public async ValueTask DisposeAsync()
    {
        Directory.Delete(ConfigDirectory, recursive: true);
        await Task.CompletedTask;
    }
}
