using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SinkConnector.Cli.Commands;

public static class RunCommand
{
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

            using var host = SinkHost.Build(sinkConfig, logSettings);
            var sink = host.Services.GetRequiredService<SinkService>();
            // Starts Kestrel first (a liveness probe must not kill a sink that is waiting for Postgres), then the sink.
            await host.StartAsync(ct);
            try
            {
                // Until SIGTERM/SIGINT or the sink's own end; the stop gives the sink shutdown_grace to commit its
                // open batch and leave the group.
                await host.WaitForShutdownAsync(CancellationToken.None);
            }
            catch (Exception) when (!sink.ExitCode.IsCompleted)
            {
                // The stop gave up at shutdown_grace: handled below.
            }

            if (!sink.ExitCode.IsCompleted)
            {
                // The hard deadline: whatever state librdkafka (or Postgres) is in, the process ends at shutdown_grace.
                // Nothing is lost by going without a goodbye: Postgres holds every committed offset.
                var loggers = host.Services.GetRequiredService<ILoggerFactory>();
                RunLog.ShutdownHung(loggers.CreateLogger("sink"), sinkConfig.Connector.ShutdownGrace.TotalSeconds);
                // Flushes the console logger's queue; the stuck thread would block an orderly exit.
                loggers.Dispose();
                Environment.Exit(ExitCodes.Failure);
            }

            return await sink.ExitCode;
        }, cancellationToken));
        return command;
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

    [LoggerMessage(2010, LogLevel.Warning, "Schema registry not reachable at startup (columns from the schema), retrying in {DelaySeconds} s: {Reason}")]
    public static partial void WaitingForRegistry(ILogger logger, long delaySeconds, string reason);

    [LoggerMessage(2011, LogLevel.Information, "Mapping {Mapping}: columns from schema id {SchemaId} ({Subject}): {Columns}")]
    public static partial void ColumnsFromSchema(ILogger logger, string mapping, int schemaId, string subject, string columns);

    [LoggerMessage(2000, LogLevel.Information, "Mapping {Mapping} (auto_create/auto_evolve): {Sql}")]
    public static partial void TableChanged(ILogger logger, string mapping, string sql);
}
