using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using SinkConnector.Consumer;
using SinkConnector.Observability;
using SinkConnector.Postgres;

namespace SinkConnector.Cli.Commands;

public static class RunCommand
{
    public static Command Create()
    {
        var config = CliContext.ConfigOption();
        var command = new Command("run", "Run the sink until SIGTERM or SIGINT.") { config };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, config, async (sinkConfig, ct) =>
        {
            using var stopping = new CancellationTokenSource();
            // SIGTERM and SIGINT start a graceful shutdown; cancelling the signal keeps the runtime from
            // exiting before the current batch is committed and the consumer has left the group.
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

            using var loggers = CliContext.CreateLoggerFactory();
            var logger = loggers.CreateLogger("sink");
            await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
            foreach (var change in (await TableManager.ApplyAutomaticAsync(database.DataSource, sinkConfig.Mappings, ct)).Changes)
            {
                RunLog.TableChanged(logger, change.Mapping.Name, change.Sql);
            }

            // Fail before joining the group: a mapping that cannot be written would fail every batch.
            if (await CliContext.ReportTableProblemsAsync(database, sinkConfig, ct) > 0)
            {
                return ExitCodes.Usage;
            }

            using var metrics = new SinkMetrics();
            var health = new SinkHealth();
            using var otlp = Telemetry.StartOtlpExport();
            using var prometheus = sinkConfig.Connector.Http is null ? null : new PrometheusExporter();
            await using var http = sinkConfig.Connector.Http is { } settings
                ? await HttpEndpoints.StartAsync(settings, health, prometheus!, ct)
                : null;

            using var consumer = new SinkConsumer(sinkConfig, database, logger, metrics: metrics, health: health);
            // The consumer loop blocks in librdkafka's poll; it gets a thread of its own.
            await Task.Factory.StartNew(() => consumer.RunAsync(stopping.Token), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
            return ExitCodes.Success;

            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;
                stopping.Cancel();
            }
        }, cancellationToken));
        return command;
    }
}

internal static partial class RunLog
{
    [LoggerMessage(2000, LogLevel.Information, "Mapping {Mapping} (auto_create/auto_evolve): {Sql}")]
    public static partial void TableChanged(ILogger logger, string mapping, string sql);
}
