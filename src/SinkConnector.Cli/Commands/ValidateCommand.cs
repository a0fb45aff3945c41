using System.CommandLine;
using SinkConnector.Schema;

namespace SinkConnector.Cli.Commands;

public static class ValidateCommand
{
    public static Command Create()
    {
        var config = CliContext.ConfigOption();
        var command = new Command("validate", "Check the configuration files and the target tables; report every problem.") { config };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, config, async (sinkConfig, ct) =>
        {
            await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
            // The connector schema as `sink run` needs it (migrated, privileges, a writable server), then the targets.
            var problems = 0;
            foreach (var error in await ConnectorSchema.CheckAsync(database, sinkConfig.Directory, ct))
            {
                await Console.Error.WriteLineAsync(error.ToString());
                problems++;
            }

            problems += await CliContext.ReportTableProblemsAsync(database, sinkConfig, ct);
            if (problems > 0)
            {
                return ExitCodes.Usage;
            }

            Console.WriteLine($"{sinkConfig.Directory}: {sinkConfig.Mappings.Count} mapping(s) valid, target tables compatible.");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
