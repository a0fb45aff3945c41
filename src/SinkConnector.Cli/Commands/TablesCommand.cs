using System.CommandLine;
using SinkConnector.Configuration;
using SinkConnector.Schema;
using SinkConnector.Writing;

namespace SinkConnector.Cli.Commands;

public static class TablesCommand
{
    public static Command Create()
    {
        var command = new Command("tables", "Create missing target schemas, tables and columns from the mappings; column types are never altered.");
        command.Subcommands.Add(Plan());
        command.Subcommands.Add(Apply());
        return command;
    }

    private static Command Plan()
    {
        var config = CliContext.ConfigOption();
        var command = new Command("plan", "Print the DDL that would create missing target schemas, tables and columns.") { config };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, config, async (sinkConfig, ct) =>
        {
            await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
            await using var connection = await database.DataSource.OpenConnectionAsync(ct);
            // A table template's tables: those of the matching topics that exist now.
            var resolved = CliContext.WithExistingTopics(await CliContext.ResolveSchemaColumnsAsync(sinkConfig, ct, fitToTables: false));
            return await ReportAsync(await TableManager.PlanAsync(connection, resolved.Mappings, ct));
        }, cancellationToken));
        return command;
    }

    private static Command Apply()
    {
        var config = CliContext.ConfigOption();
        var command = new Command("apply", "Run the DDL of `sink tables plan` in one transaction and print what ran.") { config };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, config, async (sinkConfig, ct) =>
        {
            await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
            var resolved = CliContext.WithExistingTopics(await CliContext.ResolveSchemaColumnsAsync(sinkConfig, ct, fitToTables: false));
            return await ReportAsync(await TableManager.ApplyAsync(database.DataSource, resolved.Mappings, filter: null, ct));
        }, cancellationToken));
        return command;
    }

    /// <summary>The statements as a runnable script on stdout, problems on stderr; exit 2 when there are problems.</summary>
    private static async Task<int> ReportAsync(TablePlan plan)
    {
        if (plan.Changes.Count == 0)
        {
            Console.WriteLine("-- nothing to do: all target tables and columns exist");
        }

        MappingConfig? current = null;
        foreach (var change in plan.Changes)
        {
            if (!ReferenceEquals(change.Mapping, current))
            {
                current = change.Mapping;
                // Names may contain line breaks (quoted identifiers, file names); one in a comment would end it.
                var topic = current.TableFromTemplate ? $" (topic {current.Topics[0]})" : "";
                Console.WriteLine($"-- mapping {current.Name}: {current.Table}{topic}".ReplaceLineEndings(" "));
                if (current.SchemaColumns is { } source)
                {
                    Console.WriteLine($"-- columns from schema id {source.SchemaId} ({source.Subject})".ReplaceLineEndings(" "));
                }
            }

            Console.WriteLine(change.Sql + ";");
        }

        foreach (var problem in plan.Problems)
        {
            await Console.Error.WriteLineAsync(problem.ToString());
        }

        return plan.Problems.Count > 0 ? ExitCodes.Usage : ExitCodes.Success;
    }
}
