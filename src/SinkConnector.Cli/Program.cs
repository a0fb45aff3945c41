using System.CommandLine;
using SinkConnector.Cli;
using SinkConnector.Cli.Commands;

var root = new RootCommand("SinkConnector: copies Kafka topics into PostgreSQL tables exactly once.")
{
    RunCommand.Create(),
    MigrateCommand.Create(),
    ValidateCommand.Create(),
    OffsetsCommand.Create(),
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        await Console.Error.WriteLineAsync($"sink: {error.Message}");
    }

    await Console.Error.WriteLineAsync("Run 'sink --help' for usage.");
    return ExitCodes.Usage;
}

return await parsed.InvokeAsync();
