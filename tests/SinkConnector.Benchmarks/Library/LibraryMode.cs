using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SinkConnector.Benchmarks.Scenarios;
using SinkConnector.EntityFrameworkCore;

namespace SinkConnector.Benchmarks.Library;

/// <summary>
/// Library mode (SinkConnector.EntityFrameworkCore) on (c)'s work: the same table, entities, JSON contract and batch
/// size, hosted the way an app hosts it (a Generic Host, <c>AddDbContextFactory</c>, <c>AddKafkaSink</c>, a handler)
/// in this process, as (c) runs in this process: same JIT warm-up, same CPU accounting. The window runs from the
/// engine's first claim to the commit that reaches <c>limit</c> messages, as for the sink (the rate counts that commit's
/// whole batch: the engine's batches are not cut at the limit as (c)'s last one is); then the host stops
/// (committing its open batch) and the table is checked against the offsets the engine stored.
/// </summary>
public static class LibraryMode
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(20);

    public static async Task<Measurement> RunAsync(BenchEnvironment env, string scenario, int repetition, OrderWorkload workload, bool upsert, int? limit)
    {
        var group = env.GroupId(scenario, workload, repetition);
        var total = Math.Min(limit ?? int.MaxValue, workload.Events.Count);
        (double Bench, double Postgres) cpuAtClaim = default;
        (double Bench, double Postgres) cpuAtEnd = default;
        long done = 0;
        var measured = 0;
        var batches = 0;
        var batchesInWindow = 0;
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var events = new EngineEvents(
            onFirstClaim: () => cpuAtClaim = env.CpuNow(),
            onCommitted: committed =>
            {
                batches++;
                if (committed >= total && done == 0)
                {
                    done = Stopwatch.GetTimestamp();
                    // Whole batches: the one that crosses the limit counts with all of its messages.
                    measured = (int)committed;
                    // The batches of the window only: the host's stop commits one more.
                    batchesInWindow = batches;
                    cpuAtEnd = env.CpuNow();
                    reached.TrySetResult();
                }
            });

        using var host = BuildHost(env, group, env.Topic(workload), upsert, events);
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        // A consumer failure stops the host (BackgroundServiceExceptionBehavior.StopHost): fail the run with its reason.
        using var stopped = lifetime.ApplicationStopping.Register(() =>
            reached.TrySetException(new InvalidOperationException($"{scenario}: the host stopped before {total} messages were committed: {events.Errors}")));
        await host.StartAsync();
        await reached.Task.WaitAsync(s_timeout);
        await host.StopAsync();
        if (events.Errors.Length > 0)
        {
            throw new InvalidOperationException($"{scenario}: the consumer logged errors: {events.Errors}");
        }

        var stored = await env.Database.StoredOffsetsAsync(group);
        return new Measurement(scenario, measured, repetition, Stopwatch.GetElapsedTime(events.FirstClaim, done))
        {
            WorkloadSize = workload.Events.Count,
            CommitMilliseconds = [.. events.CommitMilliseconds.Take(batchesInWindow)],
            Consumed = measured < workload.Events.Count ? stored : null,
            BenchCpu = cpuAtEnd.Bench - cpuAtClaim.Bench,
            PostgresCpu = cpuAtEnd.Postgres - cpuAtClaim.Postgres,
        };
    }

    /// <summary>The app: its DbContext from a factory, the Kafka sink bound from configuration, one handler.</summary>
    private static IHost BuildHost(BenchEnvironment env, string group, string topic, bool upsert, EngineEvents events)
    {
        // No defaults (console logging, appsettings files): (c) logs nothing either.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var settings = new Dictionary<string, string?>
        {
            ["KafkaSink:BootstrapServers"] = env.Kafka.BootstrapServers,
            ["KafkaSink:GroupId"] = group,
            ["KafkaSink:MaxBatchMessages"] = env.Options.BatchRows.ToString(CultureInfo.InvariantCulture),
            ["KafkaSink:MaxBatchLatency"] = env.Connector.Batch.MaxLatency.ToString("c", CultureInfo.InvariantCulture),
            ["KafkaSink:MaxBatchBytes"] = env.Connector.Batch.MaxBytes.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in env.KafkaProperties)
        {
            settings[$"KafkaSink:Properties:{key}"] = value;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders().AddProvider(events).SetMinimumLevel(LogLevel.Warning)
            .AddFilter("SinkConnector", LogLevel.Debug); // the engine's per-batch event (Debug) is the measurement
        var connectionString = env.Database.ConnectionString;
        builder.Services.AddDbContextFactory<BenchDbContext>(o => o.UseNpgsql(connectionString));
        var sink = builder.Services.AddKafkaSink<BenchDbContext>(builder.Configuration.GetSection("KafkaSink"));
        // (c)'s JSON contract and its source-generated metadata: the same deserialization cost on both sides.
        sink.Json.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        sink.Json.TypeInfoResolverChain.Insert(0, OrderJsonContext.Default);
        _ = upsert
            ? sink.AddHandler<OrderMessage, UpsertOrderHandler>(topic)
            : sink.AddHandler<OrderMessage, InsertOrderHandler>(topic);
        return builder.Build();
    }
}
