using System.Text;
using Confluent.Kafka;
using Npgsql;
using SinkConnector.Testing;

// Runs the sink end to end on local defaults and exits: a throwaway Postgres, Kafka (librdkafka's mock
// cluster, or $KAFKA_BOOTSTRAP), 1,000 sample orders, `sink migrate`, `sink run`, and the rows that landed.
const int Orders = 1_000;
var configDir = Path.GetFullPath(args.Length > 0 ? args[0] : "samples/config");

Console.WriteLine("==> starting PostgreSQL 15 (temporary) and Kafka");
await using var postgres = await PostgresServer.StartAsync();
using var mock = Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP") is { Length: > 0 } ? null : new MockKafkaCluster(brokers: 3);
var bootstrap = mock?.BootstrapServers ?? Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP")!;
var database = await postgres.CreateDatabaseAsync("quickstart");
var environment = new Dictionary<string, string> { ["KAFKA_BOOTSTRAP"] = bootstrap, ["SINK_POSTGRES"] = database };
Console.WriteLine($"    Kafka {bootstrap} ({(mock is null ? "external" : "mock cluster")}), Postgres port {postgres.Port}");

await using (var connection = new NpgsqlConnection(database))
{
    await connection.OpenAsync();
    await using var create = new NpgsqlCommand(await File.ReadAllTextAsync(Path.Combine(configDir, "orders.sql")), connection);
    await create.ExecuteNonQueryAsync();
}

Console.WriteLine($"==> producing {Orders} orders to topic 'orders' (3 partitions)");
mock?.CreateTopic("orders", 3);
using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = bootstrap, EnableIdempotence = true }).Build())
{
    for (var i = 1; i <= Orders; i++)
    {
        var value = $$"""{"id":{{i}},"customer":{"id":"{{new Guid(i, 0, 0, new byte[8])}}"},"amount":"{{i}}.{{i % 100:00}}","status":"{{(i % 3 == 0 ? "paid" : "new")}}","created_at":"2026-11-21T10:{{i % 60:00}}:00Z"}""";
        var headers = new Headers { { "trace-id", Encoding.UTF8.GetBytes($"trace-{i}") } };
        producer.Produce("orders", new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes($"order-{i}"), Value = Encoding.UTF8.GetBytes(value), Headers = headers });
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
return landed == Orders ? 0 : 1;

async Task<long> CountAsync()
{
    await using var connection = new NpgsqlConnection(database);
    await connection.OpenAsync();
    await using var count = new NpgsqlCommand("SELECT count(*) FROM public.orders", connection);
    return (long)(await count.ExecuteScalarAsync())!;
}
