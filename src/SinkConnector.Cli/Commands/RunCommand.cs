using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using SinkConnector.Configuration;
using SinkConnector.Engine;
using SinkConnector.Failures;
using SinkConnector.Observability;
using SinkConnector.Schema;
using SinkConnector.Writing;

namespace SinkConnector.Cli.Commands;

public static class RunCommand
{
    // Postgres still starting (compose, a failover): 1 s doubling up to 30 s.
    private static readonly RetryBackoff s_startupBackoff = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));

    public static Command Create()
    {
        var config = CliContext.ConfigOption();
        var command = new Command("run", "Run the sink until SIGTERM or SIGINT.") { config };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, config, async (sinkConfig, ct) =>
        {
            if (CliContext.ReadLogSettings(out var logError) is not { } logSettings)
            {
                await Console.Error.WriteLineAsync($"sink: {logError}");
                return ExitCodes.Usage;
            }

            using var loggers = CliContext.CreateLoggerFactory(logSettings);
            var logger = loggers.CreateLogger("sink");
            using var stopping = new CancellationTokenSource();
            Timer? deadline = null;
            // SIGTERM and SIGINT start a graceful shutdown; cancelling the signal keeps the runtime from
            // exiting before the current batch is committed and the consumer has left the group.
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

            await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
            using var metrics = new SinkMetrics();
            var health = new SinkHealth();
            using var otlp = Telemetry.StartOtlpExport();
            using var prometheus = sinkConfig.Connector.Http is null ? null : new PrometheusExporter();
            // Served from the start: a liveness probe must not kill a sink that is waiting for Postgres.
            await using var http = sinkConfig.Connector.Http is { } settings
                ? await HttpEndpoints.StartAsync(settings, health, prometheus!, ct)
                : null;

            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    // Fail before joining the group: without its schema (or on a read-only server) the sink could
                    // not claim a partition, and a mapping that cannot be written would fail every batch.
                    var schemaProblems = await ConnectorSchema.CheckAsync(database, sinkConfig.Directory, ct);
                    if (schemaProblems.Count > 0)
                    {
                        foreach (var problem in schemaProblems)
                        {
                            RunLog.CannotStart(logger, problem.ToString());
                        }

                        throw new SinkStoppedException(string.Join(Environment.NewLine, schemaProblems));
                    }

                    if (await PrepareTablesAsync(database, sinkConfig, logger, ct) > 0)
                    {
                        return ExitCodes.Usage;
                    }

                    break;
                }
                catch (Exception e) when (PostgresErrors.IsTransient(e))
                {
                    // Postgres still starting (compose, a database failover): wait rather than crash-loop.
                    var delay = s_startupBackoff.Delay(attempt);
                    RunLog.WaitingForPostgres(logger, (long)delay.TotalSeconds, e.Message);
                    try
                    {
                        await Task.Delay(delay, stopping.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return ExitCodes.Success;
                    }
                }
                catch (Exception e) when (ConnectorSchema.Explain(e, sinkConfig) is { } reason)
                {
                    // A read-only server or missing privileges met by auto_create or the table checks.
                    throw new SinkStoppedException(reason);
                }
            }

            using var consumer = new ConsumerLoop(sinkConfig, database, new SinkWriter(sinkConfig.Mappings, database), logger, metrics: metrics, health: health);
            // The consumer loop blocks in librdkafka's poll; it gets a thread of its own.
            await Task.Factory.StartNew(() => consumer.RunAsync(stopping.Token), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
            return ExitCodes.Success;

            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;
                stopping.Cancel();
                // The hard deadline: whatever state librdkafka (or Postgres) is in, the process ends within
                // shutdown_grace. Nothing is lost by going without a goodbye: Postgres holds every committed offset.
                deadline ??= new Timer(_ => ExitNow(), null, sinkConfig.Connector.ShutdownGrace, Timeout.InfiniteTimeSpan);
            }

            void ExitNow()
            {
                RunLog.ShutdownHung(logger, sinkConfig.Connector.ShutdownGrace.TotalSeconds);
                // Flushes the console logger's queue.
                loggers.Dispose();
                Environment.Exit(ExitCodes.Failure);
            }
        }, cancellationToken));
        return command;
    }

    /// <summary>auto_create / auto_evolve, then the compatibility check; returns the number of problems printed.</summary>
    private static async Task<int> PrepareTablesAsync(SinkDatabase database, SinkConfig config, ILogger logger, CancellationToken cancellationToken)
    {
        foreach (var change in (await TableManager.ApplyAutomaticAsync(database.DataSource, config.Mappings, cancellationToken)).Changes)
        {
            RunLog.TableChanged(logger, change.Mapping.Name, change.Sql);
        }

        return await CliContext.ReportTableProblemsAsync(database, config, cancellationToken);
    }
}

internal static partial class RunLog
{
    [LoggerMessage(2002, LogLevel.Error, "Cannot start: {Reason}")]
    public static partial void CannotStart(ILogger logger, string reason);

    [LoggerMessage(2003, LogLevel.Error, "Shutdown did not finish within shutdown_grace ({GraceSeconds} s): exiting without it. Postgres holds every committed offset; the group reassigns the partitions after the session timeout")]
    public static partial void ShutdownHung(ILogger logger, double graceSeconds);

    [LoggerMessage(2001, LogLevel.Warning, "Postgres not reachable at startup, retrying in {DelaySeconds} s: {Reason}")]
    public static partial void WaitingForPostgres(ILogger logger, long delaySeconds, string reason);

    [LoggerMessage(2000, LogLevel.Information, "Mapping {Mapping} (auto_create/auto_evolve): {Sql}")]
    public static partial void TableChanged(ILogger logger, string mapping, string sql);
}
