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
        var resolved = await ResolveSchemaColumnsAsync(schemas, stoppingToken);
        await using var database = new SinkDatabase(resolved.Connector.Postgres);
        var (sinkConfig, tableProblems) = await StartupWait.RunAsync(
            token => CheckSchemaAndTablesAsync(resolved, database, token),
            (delay, e) => RunLog.WaitingForPostgres(_logger, (long)delay.TotalSeconds, e.Message),
            stoppingToken);
        if (tableProblems > 0)
        {
            return ExitCodes.Usage;
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

        return await StartupWait.RunAsync(
            async token =>
            {
                var resolved = config with { Mappings = await SchemaColumnResolver.ResolveAsync(config.Mappings, schemas, token) };
                foreach (var mapping in resolved.Mappings.Where(m => m.SchemaColumns is not null))
                {
                    RunLog.ColumnsFromSchema(_logger, mapping.Name, mapping.SchemaColumns!.SchemaId, mapping.SchemaColumns.Subject,
                        string.Join(", ", mapping.Columns.Select(c => $"{c.Name} {c.Type}{(c.Nullable ? "" : " not null")}")));
                }

                return resolved;
            },
            (delay, e) => RunLog.WaitingForRegistry(_logger, (long)delay.TotalSeconds, e.Message),
            stoppingToken,
            isTransient: e => e is SchemaRegistryUnavailableException);
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

    /// <summary>The connector schema, then the tables: the mappings fitted to them and the number of table problems printed.</summary>
    private async Task<(SinkConfig Fitted, int Problems)> CheckSchemaAndTablesAsync(SinkConfig sinkConfig, SinkDatabase database, CancellationToken stoppingToken)
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

            var fitted = await FitSchemaColumnsAsync(sinkConfig, database, stoppingToken);
            return (fitted, await PrepareTablesAsync(fitted, database, stoppingToken));
        }
        catch (Exception e) when (!PostgresErrors.IsTransient(e) && ConnectorSchema.Explain(e, sinkConfig.Connector) is { } reason)
        {
            // A read-only server or missing privileges met by auto_create or the table checks.
            throw new SinkStoppedException(reason);
        }
    }

    /// <summary>auto_create / auto_evolve, then the compatibility check; returns the number of problems printed.</summary>
    private async Task<int> PrepareTablesAsync(SinkConfig config, SinkDatabase database, CancellationToken cancellationToken)
    {
        // Tables a template renders per topic are prepared when their topic is first written (TopicTables).
        var fixedTables = config with { Mappings = [.. config.Mappings.WithFixedTables()] };
        foreach (var change in (await TableManager.ApplyAutomaticAsync(database.DataSource, fixedTables.Mappings, cancellationToken)).Changes)
        {
            RunLog.TableChanged(_logger, change.Mapping.Name, change.Sql);
        }

        var problems = await CliContext.ReportTableProblemsAsync(database, fixedTables, cancellationToken);
        return problems + await CliContext.ReportTemplatedElementTypesAsync(database, config, cancellationToken);
    }
}
