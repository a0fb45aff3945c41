using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SinkConnector.Cli.Commands;
using SinkConnector.Configuration;
using SinkConnector.Engine;
using SinkConnector.Failures;
using SinkConnector.Mapping.SchemaColumns;
using SinkConnector.Observability;
using SinkConnector.Registry;
using SinkConnector.Schema;
using SinkConnector.Writing;

namespace SinkConnector.Cli;

/// <summary>
/// <c>sink run</c>'s work as a hosted service: wait for Postgres, check the schema and tables, then the consumer
/// loop until the host stops it. Whatever ends it (the stop, a failure, a startup problem) ends the process, with
/// <see cref="ExitCode"/> as its outcome.
/// </summary>
internal sealed class SinkService(SinkConfig config, SinkMetrics metrics, SinkHealth health, ILoggerFactory loggers, IHostApplicationLifetime lifetime)
    : BackgroundService
{
    // Postgres still starting (compose, a failover): 1, 2, 4 ... 30 s, exactly as logged (one process waits alone).
    private static readonly RetryBackoff s_startupBackoff = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), jitter: false);

    private readonly ILogger _logger = loggers.CreateLogger("sink");
    private readonly TaskCompletionSource<int> _exitCode = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The exit code, or the failure that stopped the sink; incomplete while the sink runs (or hangs).</summary>
    public Task<int> ExitCode => _exitCode.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            _exitCode.SetResult(await RunAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped during startup: nothing was consumed, so nothing is left to commit.
            _exitCode.SetResult(ExitCodes.Success);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Not rethrown: the host would log it as its own failure and still exit 0. The command reports it.
            _exitCode.SetException(e);
        }

        lifetime.StopApplication();
    }

    private async Task<int> RunAsync(CancellationToken stoppingToken)
    {
        using var schemas = config.Connector.SchemaRegistry is { } registry ? SchemaRegistryClients.Create(registry) : null;
        var sinkConfig = await ResolveSchemaColumnsAsync(schemas, stoppingToken);
        await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // Fail before joining the group: without its schema (or on a read-only server) the sink could
                // not claim a partition, and a mapping that cannot be written would fail every batch.
                var schemaProblems = await ConnectorSchema.CheckAsync(database, sinkConfig.Directory, stoppingToken);
                if (schemaProblems.Count > 0)
                {
                    foreach (var problem in schemaProblems)
                    {
                        RunLog.CannotStart(_logger, problem.ToString());
                    }

                    throw new SinkStoppedException(string.Join(Environment.NewLine, schemaProblems));
                }

                sinkConfig = await FitSchemaColumnsAsync(sinkConfig, database, stoppingToken);
                if (await PrepareTablesAsync(sinkConfig, database, stoppingToken) > 0)
                {
                    return ExitCodes.Usage;
                }

                break;
            }
            catch (Exception e) when (PostgresErrors.IsTransient(e) && !stoppingToken.IsCancellationRequested)
            {
                // Postgres still starting (compose, a database failover): wait rather than crash-loop.
                var delay = s_startupBackoff.Delay(attempt);
                RunLog.WaitingForPostgres(_logger, (long)delay.TotalSeconds, e.Message);
                await Task.Delay(delay, stoppingToken);
            }
            catch (Exception e) when (ConnectorSchema.Explain(e, sinkConfig.Connector) is { } reason)
            {
                // A read-only server or missing privileges met by auto_create or the table checks.
                throw new SinkStoppedException(reason);
            }
        }

        using var consumer = new ConsumerLoop(sinkConfig.Connector, database, new SinkWriter(sinkConfig.Mappings, database, schemas, metrics), _logger, metrics: metrics, health: health);
        // The consumer loop blocks in librdkafka's poll; it gets a thread of its own.
        await Task.Factory.StartNew(() => consumer.RunAsync(stoppingToken), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        return ExitCodes.Success;
    }

    /// <summary>
    /// Columns from the registry's newest schemas, for mappings with columns_from_schema; a registry that does not
    /// answer (still starting, an outage) is waited for like Postgres, since nothing can be written without the columns.
    /// </summary>
    private async Task<SinkConfig> ResolveSchemaColumnsAsync(SchemaSource? schemas, CancellationToken stoppingToken)
    {
        if (schemas is null || !config.Mappings.Any(m => m.ColumnsFromSchema))
        {
            return config;
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var resolved = config with { Mappings = await SchemaColumnResolver.ResolveAsync(config.Mappings, schemas, stoppingToken) };
                foreach (var mapping in resolved.Mappings.Where(m => m.SchemaColumns is not null))
                {
                    RunLog.ColumnsFromSchema(_logger, mapping.Name, mapping.SchemaColumns!.SchemaId, mapping.SchemaColumns.Subject,
                        string.Join(", ", mapping.Columns.Select(c => $"{c.Name} {c.Type}{(c.Nullable ? "" : " not null")}")));
                }

                return resolved;
            }
            catch (SchemaRegistryUnavailableException e) when (!stoppingToken.IsCancellationRequested)
            {
                var delay = s_startupBackoff.Delay(attempt);
                RunLog.WaitingForRegistry(_logger, (long)delay.TotalSeconds, e.Message);
                await Task.Delay(delay, stoppingToken);
            }
        }
    }

    private static async Task<SinkConfig> FitSchemaColumnsAsync(SinkConfig sinkConfig, SinkDatabase database, CancellationToken cancellationToken)
    {
        if (!sinkConfig.Mappings.Any(m => m.SchemaColumns is not null))
        {
            return sinkConfig;
        }

        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        return sinkConfig with { Mappings = await SchemaColumnsFit.ToTablesAsync(connection, sinkConfig.Mappings, cancellationToken) };
    }

    /// <summary>auto_create / auto_evolve, then the compatibility check; returns the number of problems printed.</summary>
    private async Task<int> PrepareTablesAsync(SinkConfig config, SinkDatabase database, CancellationToken cancellationToken)
    {
        foreach (var change in (await TableManager.ApplyAutomaticAsync(database.DataSource, config.Mappings, cancellationToken)).Changes)
        {
            RunLog.TableChanged(_logger, change.Mapping.Name, change.Sql);
        }

        return await CliContext.ReportTableProblemsAsync(database, config, cancellationToken);
    }
}
