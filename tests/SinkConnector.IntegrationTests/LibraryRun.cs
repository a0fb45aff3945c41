using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Library mode in the test process, hosted as an app hosts it: a fresh database and one-partition topic holding
/// <c>messages</c>, a Generic Host with the <c>KafkaSink</c> settings, whatever <c>configure</c> registers, run until the
/// consumer stops itself or has committed every message. Then the exit code, the log and the database are there to check.
/// </summary>
public sealed class LibraryRun
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    private LibraryRun(string connectionString, string topic, CollectingLogger logs)
    {
        ConnectionString = connectionString;
        Topic = topic;
        Logs = logs;
    }

    public string ConnectionString { get; }

    public string Topic { get; }

    public CollectingLogger Logs { get; }

    /// <summary>What the process would exit with (<see cref="Environment.ExitCode"/> once the host stopped).</summary>
    public int ExitCode { get; private set; }

    public Task<long> ScalarAsync(string sql) => TestSql.ScalarAsync(ConnectionString, sql);

    public Task<long> CommittedAsync() => CommittedMessages.SumAsync(ConnectionString, GroupId(Topic));

    public static string GroupId(string topic) => "it-" + topic;

    /// <summary>Runs the host; <paramref name="configure"/> gets the builder, the database's connection string and the topic.</summary>
    public static Task<LibraryRun> RunAsync<TContext>(
        TestServices services, string name, IReadOnlyList<Message<byte[]?, byte[]?>> messages,
        Action<HostApplicationBuilder, string, string> configure, params (string Key, string Value)[] settings)
        where TContext : DbContext =>
        RunAsync<TContext>(services, name, _ => Task.FromResult(messages), configure, settings);

    /// <summary>As above, the messages made for the topic once it exists (e.g. serialized under its subject).</summary>
    public static async Task<LibraryRun> RunAsync<TContext>(
        TestServices services, string name, Func<string, Task<IReadOnlyList<Message<byte[]?, byte[]?>>>> produce,
        Action<HostApplicationBuilder, string, string> configure, params (string Key, string Value)[] settings)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(produce);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var cancellationToken = TestContext.Current.CancellationToken;
        var connectionString = await services.Postgres.CreateDatabaseAsync(name.ToLowerInvariant(), cancellationToken);
        var topic = await services.Kafka.CreateTopicAsync(name.ToLowerInvariant().Replace('_', '-'), partitions: 1);
        var messages = await produce(topic);
        await services.Kafka.ProduceAsync(topic, messages.Select(m => (0, m)));
        var run = new LibraryRun(connectionString, topic, new CollectingLogger());
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(run.Logs);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["KafkaSink:BootstrapServers"] = services.Kafka.BootstrapServers,
            ["KafkaSink:GroupId"] = GroupId(topic),
        }.Concat(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))));
        configure(builder, connectionString, topic);
        using var host = builder.Build();
        if (host.Services.GetService<IDbContextFactory<TContext>>() is { } contexts)
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            await db.Database.EnsureCreatedAsync(cancellationToken);
        }

        try
        {
            await host.StartAsync(cancellationToken);
            var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            await CommittedMessages.WaitForAsync(connectionString, GroupId(topic), messages.Count, s_timeout,
                () => run.Logs.Text, () => stopping.IsCancellationRequested);
            await host.StopAsync(cancellationToken);
            run.ExitCode = Environment.ExitCode;
        }
        finally
        {
            Environment.ExitCode = 0; // the test host's own exit code
        }

        return run;
    }
}
