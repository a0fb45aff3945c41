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

            var resolved = await CliContext.ResolveSchemaColumnsAsync(sinkConfig, ct);
            if (resolved.Mappings.Any(m => m.TopicsRegex is not null))
            {
                // Which table each matching topic that exists now goes to; their tables are checked like fixed ones.
                await using var connection = await database.DataSource.OpenConnectionAsync(ct);
                var expanded = CliContext.WithExistingTopics(resolved).Mappings;
                resolved = resolved with { Mappings = await TopicPatternListing.PrintAsync(connection, resolved.Mappings, expanded, ct) };
            }

            problems += await CliContext.ReportTableProblemsAsync(database, resolved, ct);
            if (problems > 0)
            {
                return ExitCodes.Usage;
            }

            foreach (var mapping in resolved.Mappings.Where(m => m.SchemaColumns is not null))
            {
                // What the registry's newest schema gives today: the operator sees the columns the sink will write.
                Console.WriteLine($"mapping {mapping.Name}: columns from schema id {mapping.SchemaColumns!.SchemaId} ({mapping.SchemaColumns.Subject}):".ReplaceLineEndings(" "));
                foreach (var column in mapping.Columns)
                {
                    var derived = mapping.SchemaColumns.Derived.Contains(column.Name) ? "" : " (override)";
                    Console.WriteLine($"  {column.Name}: {{ from: {column.From}, type: {column.Type}{(column.Nullable ? ", nullable: true" : "")} }}{derived}".ReplaceLineEndings(" "));
                }
            }

            Console.WriteLine($"{sinkConfig.Directory}: {sinkConfig.Mappings.Count} mapping(s) valid, target tables compatible.");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
