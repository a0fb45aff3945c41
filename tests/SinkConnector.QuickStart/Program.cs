using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;
using Npgsql;
using SinkConnector.Testing;

// Runs the sink end to end on local defaults and exits: a throwaway Postgres, Kafka (the broker in
// $KAFKA_BOOTSTRAP, a throwaway broker from the distribution in $KAFKA_HOME, or librdkafka's mock cluster),
// 1,000 sample orders, `sink migrate`, `sink run`, and the rows that landed. Usage: quickstart [CONFIG_DIR] [--keep]
const int Orders = 1_000;
var keep = args.Contains("--keep");
var unknown = args.Where(a => a.StartsWith('-') && a != "--keep").ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"quickstart: unknown option {unknown[0]}; usage: eng/quickstart.sh [--keep]  (--keep: leave PostgreSQL running to look at the rows, until Ctrl+C)");
    return 2;
}

var samples = Path.GetFullPath(args.FirstOrDefault(a => !a.StartsWith('-')) ?? "samples/config");

// The run's own topic and consumer group, unique per run: $KAFKA_BOOTSTRAP may be a real broker with an `orders`
// topic (or an `orders-sink` group) of its own, which the quick start must neither produce into nor join.
var runId = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
var topic = $"sink-quickstart-{runId}";
var configDir = CopyConfig(samples, topic);

Console.WriteLine("==> starting PostgreSQL 15 (temporary) and Kafka");
await using var postgres = await PostgresServer.StartAsync();
// $KAFKA_BOOTSTRAP (a running broker), else a throwaway broker from $KAFKA_HOME, else librdkafka's mock cluster.
using var kafka = Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP") is { Length: > 0 } external
    ? KafkaTestCluster.External(external, "KAFKA_BOOTSTRAP is set")
    : await KafkaTestCluster.StartAsync();
var database = await postgres.CreateDatabaseAsync("quickstart");
var environment = new Dictionary<string, string> { ["KAFKA_BOOTSTRAP"] = kafka.BootstrapServers, ["SINK_POSTGRES"] = database };
Console.WriteLine($"    Kafka: {kafka.Description}; Postgres port {postgres.Port}");
Console.WriteLine($"    configuration: {samples}, copied to {configDir} with topic and consumer group {topic}");

await using (var connection = new NpgsqlConnection(database))
{
    await connection.OpenAsync();
    await using var create = new NpgsqlCommand(await File.ReadAllTextAsync(Path.Combine(samples, "orders.sql")), connection);
    await create.ExecuteNonQueryAsync();
}

Console.WriteLine($"==> producing {Orders} orders to topic '{topic}' (3 partitions)");
await kafka.CreateTopicNamedAsync(topic, 3);
using (var producer = kafka.CreateProducer())
{
    for (var i = 1; i <= Orders; i++)
    {
        var value = $$"""{"id":{{i}},"customer":{"id":"{{new Guid(i, 0, 0, new byte[8])}}"},"amount":"{{i}}.{{i % 100:00}}","status":"{{(i % 3 == 0 ? "paid" : "new")}}","created_at":"2026-11-21T10:{{i % 60:00}}:00Z"}""";
        var headers = new Headers { { "trace-id", Encoding.UTF8.GetBytes($"trace-{i}") } };
        producer.Produce(topic, new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes($"order-{i}"), Value = Encoding.UTF8.GetBytes(value), Headers = headers });
    }

    producer.Flush(TimeSpan.FromSeconds(30));
}

Console.WriteLine($"==> sink migrate --config {configDir}");
var (migrateExit, migrateOutput) = await SinkProcess.RunToEndAsync(["migrate", "--config", configDir], environment);
Console.Write(migrateOutput);
if (migrateExit != 0)
{
    return migrateExit;
}

Console.WriteLine($"==> sink run --config {configDir} (until all {Orders} orders landed, then SIGTERM)");
using (var sink = SinkProcess.Start(["run", "--config", configDir], environment))
{
    var deadline = DateTime.UtcNow.AddMinutes(2);
    while (await CountAsync() < Orders && DateTime.UtcNow < deadline && !sink.HasExited)
    {
        await Task.Delay(200);
    }

    sink.Signal(SinkProcess.SIGTERM);
    await sink.WaitForExitAsync(TimeSpan.FromSeconds(40));
    Console.Write(sink.Output);
    if (sink.ExitCode != 0)
    {
        return sink.ExitCode;
    }
}

Console.WriteLine("==> SELECT id, customer_id, amount, status, created_at, src_key, trace_id, kafka_offset FROM public.orders ORDER BY id LIMIT 5");
await using (var connection = new NpgsqlConnection(database))
{
    await connection.OpenAsync();
    await using var query = new NpgsqlCommand("SELECT id, customer_id, amount, status, created_at, src_key, trace_id, kafka_offset FROM public.orders ORDER BY id LIMIT 5", connection);
    await using var reader = await query.ExecuteReaderAsync();
    while (await reader.ReadAsync())
    {
        var cells = Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i) switch
        {
            DateTime time => time.ToString("O"),
            var value => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
        });
        Console.WriteLine("    " + string.Join(" | ", cells));
    }
}

var landed = await CountAsync();
Console.WriteLine($"==> {landed} of {Orders} orders landed in public.orders; offsets are in sink.offsets");
var psql = Psql(database);
if (keep)
{
    // The server and its data live as long as this process: wait for the operator, then clean up as usual.
    Console.WriteLine("==> --keep: PostgreSQL stays up until Ctrl+C. Look at the rows with");
    Console.WriteLine($"    {psql}");
    Console.WriteLine("    e.g. SELECT * FROM public.orders LIMIT 10;  SELECT * FROM sink.offsets;");
    var stop = new TaskCompletionSource();
    using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
    using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
    await stop.Task;
    Console.WriteLine("==> stopping PostgreSQL and deleting its data");
}
else
{
    Console.WriteLine("    (the database is deleted on exit; eng/quickstart.sh --keep leaves it running to look at, with psql)");
}

Directory.Delete(configDir, recursive: true);
return landed == Orders ? 0 : 1;

async Task<long> CountAsync()
{
    await using var connection = new NpgsqlConnection(database);
    await connection.OpenAsync();
    await using var count = new NpgsqlCommand("SELECT count(*) FROM public.orders", connection);
    return (long)(await count.ExecuteScalarAsync())!;
}

// A copy of the sample configuration with the run's own topic and consumer group; the samples stay as documented.
static string CopyConfig(string samples, string topic)
{
    var directory = Directory.CreateTempSubdirectory("sink-quickstart-config-").FullName;
    Directory.CreateDirectory(Path.Combine(directory, "mappings"));
    File.WriteAllText(Path.Combine(directory, "sink.yaml"), Rewrite(Path.Combine(samples, "sink.yaml"), "kafka:\n", $"kafka:\n  group_id: {topic}\n"));
    File.WriteAllText(Path.Combine(directory, "mappings", "orders.yaml"), Rewrite(Path.Combine(samples, "mappings", "orders.yaml"), "topic: orders\n", $"topic: {topic}\n"));
    return directory;
}

static string Rewrite(string file, string find, string replacement)
{
    var text = File.ReadAllText(file).ReplaceLineEndings("\n");
    return text.Contains(find, StringComparison.Ordinal)
        ? text.Replace(find, replacement, StringComparison.Ordinal)
        : throw new InvalidOperationException($"{file}: expected a line '{find.TrimEnd()}' to point the quick start at its own topic and group");
}

// A psql command line for the quick start's database (the server's own psql when none is on PATH).
static string Psql(string connectionString)
{
    var builder = new NpgsqlConnectionStringBuilder(connectionString);
    var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, "psql")));
    var psql = onPath ? "psql" : "/usr/lib/postgresql/15/bin/psql";
    return $"{psql} \"host={builder.Host} port={builder.Port} dbname={builder.Database} user={builder.Username}\"";
}
