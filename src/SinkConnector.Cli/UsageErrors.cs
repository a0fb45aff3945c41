using System.CommandLine;
using System.CommandLine.Parsing;

namespace SinkConnector.Cli;

/// <summary>Reports a command line that does not parse: one clear reason, what would be valid, exit code 2.</summary>
public static class UsageErrors
{
    public static async Task<int> ReportAsync(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        var path = CommandPath(parsed.CommandResult);
        var unknown = parsed.UnmatchedTokens.Count > 0 ? parsed.UnmatchedTokens[0] : null;
        if (command.Subcommands.Count > 0)
        {
            // A command group (sink, sink offsets, ...): System.CommandLine reports both "Required command was not
            // provided" and "Unrecognized command", which contradict each other; the operator needs one of them and
            // the list of commands.
            await Console.Error.WriteLineAsync(unknown is null || unknown.StartsWith('-')
                ? $"{path}: a command is required"
                : $"{path}: unknown command '{unknown}'");
            await Console.Error.WriteLineAsync("Commands:");
            var width = command.Subcommands.Max(c => c.Name.Length);
            foreach (var subcommand in command.Subcommands.Where(c => !c.Hidden))
            {
                await Console.Error.WriteLineAsync($"  {path} {subcommand.Name.PadRight(width)}  {FirstSentence(subcommand.Description)}");
            }
        }
        else
        {
            foreach (var message in parsed.Errors.Select(e => e.Message).Distinct())
            {
                await Console.Error.WriteLineAsync($"{path}: {message}");
            }
        }

        await Console.Error.WriteLineAsync($"Run '{path} --help' for usage.");
        return ExitCodes.Usage;
    }

    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? current = result; current is not null; current = current.Parent)
        {
            if (current is CommandResult { Command: var command })
            {
                names.Add(command is RootCommand ? "sink" : command.Name);
            }
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>The description up to its first full stop or colon: one line per command in the list.</summary>
    private static string FirstSentence(string? description)
    {
        var text = description ?? "";
        var end = new[] { text.IndexOf(". ", StringComparison.Ordinal), text.IndexOf(": ", StringComparison.Ordinal) }.Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        return end < 0 ? text.TrimEnd('.') : text[..end];
    }
}
