using System.CommandLine;
using SinkConnector.Cli;
using SinkConnector.Cli.Commands;

var root = new RootCommand("SinkConnector: copies Kafka topics into PostgreSQL tables exactly once.")
{
    RunCommand.Create(),
    MigrateCommand.Create(),
    ValidateCommand.Create(),
    OffsetsCommand.Create(),
    TablesCommand.Create(),
    StatusCommand.Create(),
    DlqCommand.Create(),
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    return await UsageErrors.ReportAsync(parsed);
}

// `sink run` handles SIGTERM/SIGINT itself (commit, leave the group, within shutdown_grace); System.CommandLine's
// own handler would end the process after its fixed timeout.
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
