using System.CommandLine;
using SinkConnector.Postgres;

namespace SinkConnector.Cli.Commands;

public static class MigrateCommand
{
    public static Command Create()
    {
        var config = CliContext.ConfigOption();
        var script = new Option<bool>("--script") { Description = "Print idempotent SQL instead of applying it." };
        var command = new Command("migrate", "Apply the connector's migrations (offsets, dead letters) to postgres.schema.") { config, script };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, config, async (sinkConfig, ct) =>
        {
            await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
            if (parse.GetValue(script))
            {
                Console.WriteLine(SchemaMigrator.Script(database));
                return ExitCodes.Success;
            }

            var applied = await SchemaMigrator.MigrateAsync(database, ct);
            Console.WriteLine(applied.Count == 0
                ? $"Schema {database.Schema} is up to date."
                : $"Applied {string.Join(", ", applied)} to schema {database.Schema}.");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
