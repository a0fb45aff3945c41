using System.CommandLine;
using SinkConnector.Configuration;
using SinkConnector.Schema;

namespace SinkConnector.Cli.Commands;

public static class MigrateCommand
{
    /// <summary>
    /// <c>--script</c> never connects: the connection string only has to parse. Any value would do; this one says
    /// where it came from if it ever showed up somewhere.
    /// </summary>
    private const string ScriptOnlyConnectionString = "Host=sink-migrate-script.invalid";

    public static Command Create()
    {
        var config = CliContext.ConfigOption();
        var script = new Option<bool>("--script")
        {
            Description = "Print idempotent SQL instead of applying it. Connects to nothing: environment variables the "
                + "configuration refers to may be unset, except those postgres.schema uses.",
        };
        var command = new Command("migrate", "Apply the connector's migrations (offsets, dead letters) to postgres.schema.") { config, script };
        command.SetAction((parse, cancellationToken) => parse.GetValue(script)
            ? CliContext.RunAsync(parse, config, (sinkConfig, _) => PrintScriptAsync(sinkConfig), cancellationToken, ScriptEnvironment, checkClients: false)
            : CliContext.RunAsync(parse, config, async (sinkConfig, ct) =>
            {
                await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
                var applied = await SchemaMigrator.MigrateAsync(database, ct);
                Console.WriteLine(applied.Count == 0
                    ? $"Schema {database.Schema} is up to date."
                    : $"Applied {string.Join(", ", applied)} to schema {database.Schema}.");
                return ExitCodes.Success;
            }, cancellationToken));
        return command;
    }

    private static async Task<int> PrintScriptAsync(SinkConfig sinkConfig)
    {
        await using var database = new SinkDatabase(sinkConfig.Connector.Postgres with { ConnectionString = ScriptOnlyConnectionString });
        Console.WriteLine(SchemaMigrator.Script(database));
        return ExitCodes.Success;
    }

    /// <summary>
    /// The script depends on postgres.schema only: a variable that is not set (the connection string's, Kafka's,
    /// the pod name) stays as written, <c>${NAME}</c>, instead of failing the load. In postgres.schema it is then
    /// reported as an invalid schema name that shows the variable: the script cannot be made without it.
    /// </summary>
    private static string? ScriptEnvironment(string name) => Environment.GetEnvironmentVariable(name) ?? $"${{{name}}}";
}
