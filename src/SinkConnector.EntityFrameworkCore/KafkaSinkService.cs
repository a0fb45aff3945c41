using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SinkConnector.Engine;
using SinkConnector.Failures;
using SinkConnector.Schema;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>
/// The consumer as a hosted service: migrates the offsets and dead-letter tables (waiting for Postgres if it is not up
/// yet), then runs the engine (<see cref="ConsumerLoop"/>) with the handlers as its writer until the host stops.
/// A failure stops the host with exit code 1.
/// </summary>
internal sealed partial class KafkaSinkService<TContext>(
    IServiceProvider services, IOptions<KafkaSinkOptions> options, List<HandlerRegistration<TContext>> handlers,
    IHostApplicationLifetime lifetime, ILogger<KafkaSinkService<TContext>> logger) : BackgroundService
    where TContext : DbContext
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OutOfMemoryException && (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested))
        {
            // Not rethrown: the host would log it again with its stack trace (a setup mistake is not a crash) and
            // still exit 0. One critical line says what to fix; exit code 1 lets an orchestrator see the failure.
            Stopped(logger, e.Message);
            if (Environment.ExitCode == 0)
            {
                Environment.ExitCode = 1;
            }

            lifetime.StopApplication();
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (handlers.Count == 0)
        {
            throw new InvalidOperationException($"AddKafkaSink<{typeof(TContext).Name}>: no handler registered (AddHandler<TMessage, THandler>(topic))");
        }

        var contexts = services.GetService<IDbContextFactory<TContext>>() ?? throw new InvalidOperationException(
            $"AddKafkaSink<{typeof(TContext).Name}> creates a {typeof(TContext).Name} per batch: register it with " +
            $"services.AddDbContextFactory<{typeof(TContext).Name}>(...) (AddDbContext alone has no factory)");
        var connector = settings.ToConnector(settings.ConnectionString ?? ConnectionStringOf(contexts));
        await using var database = new SinkDatabase(connector.Postgres);
        await MigrateAsync(database, stoppingToken);

        var writer = new HandlerWriter<TContext>(handlers, contexts, services, settings, database.ApplicationName);
        using var consumer = new ConsumerLoop(connector, database, writer, logger);
        // The loop blocks in librdkafka's poll: a thread of its own, not one of the pool's.
        await Task.Factory.StartNew(() => consumer.RunAsync(stoppingToken), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    private static string ConnectionStringOf(IDbContextFactory<TContext> contexts)
    {
        using var db = contexts.CreateDbContext();
        if (db.Database.ProviderName != "Npgsql.EntityFrameworkCore.PostgreSQL")
        {
            throw new InvalidOperationException($"{typeof(TContext).Name} uses {db.Database.ProviderName}: the Kafka sink needs PostgreSQL (UseNpgsql)");
        }

        return db.Database.GetConnectionString()
            ?? throw new InvalidOperationException($"{typeof(TContext).Name} has no connection string: set KafkaSinkOptions.ConnectionString");
    }

    /// <summary>The connector schema (offsets, dead letters), migrated like `sink migrate` does; waits while Postgres is starting.</summary>
    private async Task MigrateAsync(SinkDatabase database, CancellationToken stoppingToken)
    {
        var applied = await StartupWait.RunAsync(
            token => SchemaMigrator.MigrateAsync(database, token),
            (delay, e) => WaitingForPostgres(logger, (long)delay.TotalSeconds, e.Message),
            stoppingToken);
        if (applied.Count > 0)
        {
            Migrated(logger, applied, database.Schema);
        }
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Applied {Migrations} to schema {Schema}")]
    private static partial void Migrated(ILogger logger, IReadOnlyList<string> migrations, string schema);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Critical, Message = "The Kafka consumer stopped: {Reason}")]
    private static partial void Stopped(ILogger logger, string reason);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Postgres is not reachable, retrying in {Seconds} s: {Reason}")]
    private static partial void WaitingForPostgres(ILogger logger, long seconds, string reason);
}
