using System.Globalization;
using System.Text;
using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// The library-mode sample (samples/OrdersService) under test as a real process: its own database and topic, and the
/// orders produced so far, so that its tables can be checked against exactly what was sent.
/// </summary>
public sealed class OrdersAppBed
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);

    private readonly TestServices _services;
    private readonly Random _random;
    private readonly int _partitions;
    private long _nextId = 1;

    private OrdersAppBed(TestServices services, string connectionString, string topic, int partitions, int seed)
    {
        _services = services;
        ConnectionString = connectionString;
        Topic = topic;
        _partitions = partitions;
        Seed = seed;
        _random = new Random(seed);
    }

    /// <summary>Seeds the orders produced and the kill moments; failures name it.</summary>
    public int Seed { get; }

    public string ConnectionString { get; }

    public string Topic { get; }

    public string GroupId => "it-" + Topic;

    /// <summary>Good orders produced so far: id → (customer, amount).</summary>
    public Dictionary<long, (long Customer, decimal Amount)> Orders { get; } = [];

    /// <summary>Every message produced so far, poison included.</summary>
    public long Produced { get; private set; }

    public static async Task<OrdersAppBed> CreateAsync(TestServices services, string name, int partitions, int seed)
    {
        var connectionString = await services.Postgres.CreateDatabaseAsync(name);
        var topic = await services.Kafka.CreateTopicAsync(name.Replace('_', '-'), partitions);
        return new OrdersAppBed(services, connectionString, topic, partitions, seed);
    }

    public IReadOnlyDictionary<string, string> Environment
    {
        get
        {
            var environment = new Dictionary<string, string>
            {
                ["ConnectionStrings__Shop"] = ConnectionString,
                ["KafkaSink__BootstrapServers"] = _services.Kafka.BootstrapServers,
                ["KafkaSink__GroupId"] = GroupId,
                ["KafkaSink__MaxBatchMessages"] = "300",
                ["KafkaSink__MaxBatchLatency"] = "00:00:00.050",
                ["KafkaSink__ShutdownGrace"] = "00:00:20",
                ["Orders__Topic"] = Topic,
                ["Logging__LogLevel__Default"] = "Information",
                ["Logging__LogLevel__Microsoft.EntityFrameworkCore"] = "Warning",
            };
            foreach (var (key, value) in KafkaTestCluster.ClientProperties)
            {
                environment[$"KafkaSink__Properties__{key}"] = value;
            }

            return environment;
        }
    }

    /// <summary>Starts the sample app with <see cref="Environment"/>, changed by <paramref name="overrides"/>.</summary>
    public SinkProcess StartApp(params (string Key, string Value)[] overrides)
    {
        var environment = new Dictionary<string, string>(Environment);
        foreach (var (key, value) in overrides)
        {
            environment[key] = value;
        }

        return SinkProcess.Start([], environment, dllPath: s_app);
    }

    // The sample's own build output, in the configuration these tests were built in (bin/<configuration>/net10.0/).
    private static readonly string s_app = Path.Combine(RepositoryFolder.Root, "samples", "OrdersService", "bin",
        new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, "net10.0", "OrdersService.dll");

    /// <summary>Produces <paramref name="count"/> orders of 40 customers, keyed by customer; <paramref name="poison"/> of them invalid.</summary>
    public async Task ProduceOrdersAsync(int count, int poison = 0)
    {
        var messages = new List<(int, Message<byte[]?, byte[]?>)>();
        var poisonAt = Enumerable.Range(0, poison).Select(_ => _random.Next(count)).ToHashSet();
        for (var i = 0; i < count; i++)
        {
            var id = _nextId++;
            var customer = _random.Next(1, 41);
            var amount = _random.Next(1, 100_000) / 100m;
            string value;
            if (poisonAt.Contains(i))
            {
                // Every other poison message is not JSON at all; the rest have an amount the handler refuses.
                value = i % 2 == 0 ? $"{{\"id\": {id}, oops" : $$"""{"id":{{id}},"customerId":{{customer}},"amount":-1}""";
            }
            else
            {
                value = $$"""{"id":{{id}},"customerId":{{customer}},"amount":{{amount.ToString(CultureInfo.InvariantCulture)}}}""";
                Orders.Add(id, (customer, amount));
            }

            messages.Add((customer % _partitions, new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes($"customer-{customer}"),
                Value = Encoding.UTF8.GetBytes(value),
            }));
        }

        await _services.Kafka.ProduceAsync(Topic, messages);
        Produced += count;
    }

    public Task<long> CommittedAsync() => CommittedMessages.SumAsync(ConnectionString, GroupId);

    /// <summary>Waits until <paramref name="count"/> messages are committed; fails at once if every app in <paramref name="apps"/> exited.</summary>
    public async Task WaitForCommittedAsync(long count, params SinkProcess[] apps)
    {
        string Describe() => $"seed {Seed}: the apps: {string.Join(", ", apps.Select(a => a.HasExited ? $"exited {a.ExitCode}" : "running"))}\n" +
            string.Join("\n----\n", apps.Select(a => a.Output));
        if (!await CommittedMessages.WaitForAsync(ConnectionString, GroupId, count, s_catchUp, Describe, () => apps.All(a => a.HasExited)))
        {
            throw new TimeoutException($"{await CommittedAsync()} of {count} messages committed; {Describe()}");
        }
    }

    /// <summary>Starts the app, waits until it committed something more, and SIGKILLs it a random moment later.</summary>
    public async Task RunAndKillAsync()
    {
        var before = await CommittedAsync();
        using var app = StartApp();
        await WaitForCommittedAsync(before + 1, app);
        await Task.Delay(_random.Next(0, 400));
        app.Signal(SinkProcess.SIGKILL);
        await app.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Stops the app with SIGTERM and asserts it exits 0 (it commits its open batch first).</summary>
    public static async Task StopAsync(SinkProcess app)
    {
        app.Signal(SinkProcess.SIGTERM);
        await app.WaitForExitAsync(TimeSpan.FromSeconds(40));
        Assert.True(app.ExitCode == 0, $"exit {app.ExitCode}\n{app.Output}");
    }

    /// <summary>
    /// The app's tables hold exactly the good orders below the stored offsets, once each, and every customer's total is
    /// the sum of their orders: a redelivered order would show up as a duplicate id or a total that is too high.
    /// </summary>
    public async Task AssertConsistentAsync()
    {
        var rows = await TestSql.QueryAsync(ConnectionString, "SELECT id, customer_id, amount FROM public.orders",
            r => (Id: r.GetInt64(0), Customer: r.GetInt64(1), Amount: r.GetDecimal(2)));
        Assert.Equal(rows.Count, rows.Select(r => r.Id).Distinct().Count());
        foreach (var row in rows)
        {
            Assert.Equal(Orders[row.Id], (row.Customer, row.Amount));
        }

        var totals = await TestSql.QueryAsync(ConnectionString, "SELECT customer_id, orders, total FROM public.customer_totals",
            r => (Customer: r.GetInt64(0), Orders: r.GetInt32(1), Total: r.GetDecimal(2)));
        var expected = rows.GroupBy(r => r.Customer).ToDictionary(g => g.Key, g => (g.Count(), g.Sum(r => r.Amount)));
        Assert.Equal(expected, totals.ToDictionary(t => t.Customer, t => (t.Orders, t.Total)));
        // Every committed message is an order or a dead letter: nothing below the offsets is missing.
        var deadLetters = await ScalarAsync($"SELECT count(*) FROM sink.dead_letters WHERE group_id = '{GroupId}'");
        Assert.Equal(await CommittedAsync(), rows.Count + deadLetters);
    }

    /// <summary>Everything produced is in: every good order once, every poison message a dead letter.</summary>
    public async Task AssertAllOrdersOnceAsync()
    {
        await AssertConsistentAsync();
        Assert.Equal(Produced, await CommittedAsync());
        Assert.Equal(Orders.Count, await ScalarAsync("SELECT count(*) FROM public.orders"));
    }

    public Task<long> ScalarAsync(string sql) => TestSql.ScalarAsync(ConnectionString, sql);
}
