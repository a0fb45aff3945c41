using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SinkConnector.Cli.Commands;
using SinkConnector.Configuration;
using SinkConnector.Engine;
using SinkConnector.Failures;
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
        await using var database = new SinkDatabase(config.Connector.Postgres);
        var tableProblems = await StartupWait.RunAsync(
            token => CheckSchemaAndTablesAsync(database, token),
            (delay, e) => RunLog.WaitingForPostgres(_logger, (long)delay.TotalSeconds, e.Message),
            stoppingToken);
        if (tableProblems > 0)
        {
            return ExitCodes.Usage;
        }

        using var schemas = config.Connector.SchemaRegistry is { } registry ? SchemaRegistryClients.Create(registry) : null;
        using var consumer = new ConsumerLoop(config.Connector, database, new SinkWriter(config.Mappings, database, schemas), _logger, metrics: metrics, health: health);
        // The consumer loop blocks in librdkafka's poll; it gets a thread of its own.
        await Task.Factory.StartNew(() => consumer.RunAsync(stoppingToken), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        return ExitCodes.Success;
    }

    /// <summary>The connector schema, then the tables; returns the number of table problems printed.</summary>
    private async Task<int> CheckSchemaAndTablesAsync(SinkDatabase database, CancellationToken stoppingToken)
    {
        try
        {
            // Fail before joining the group: without its schema (or on a read-only server) the sink could
            // not claim a partition, and a mapping that cannot be written would fail every batch.
            var schemaProblems = await ConnectorSchema.CheckAsync(database, config.Directory, stoppingToken);
            if (schemaProblems.Count > 0)
            {
                foreach (var problem in schemaProblems)
                {
                    RunLog.CannotStart(_logger, problem.ToString());
                }

                throw new SinkStoppedException(string.Join(Environment.NewLine, schemaProblems));
            }

            return await PrepareTablesAsync(database, stoppingToken);
        }
        catch (Exception e) when (!PostgresErrors.IsTransient(e) && ConnectorSchema.Explain(e, config.Connector) is { } reason)
        {
            // A read-only server or missing privileges met by auto_create or the table checks.
            throw new SinkStoppedException(reason);
        }
    }

    /// <summary>auto_create / auto_evolve, then the compatibility check; returns the number of problems printed.</summary>
    private async Task<int> PrepareTablesAsync(SinkDatabase database, CancellationToken cancellationToken)
    {
        foreach (var change in (await TableManager.ApplyAutomaticAsync(database.DataSource, config.Mappings, cancellationToken)).Changes)
        {
            RunLog.TableChanged(_logger, change.Mapping.Name, change.Sql);
        }

        return await CliContext.ReportTableProblemsAsync(database, config, cancellationToken);
    }
}
