using System.CommandLine;
using System.Globalization;
using SinkConnector.DeadLetters;
using SinkConnector.Observability;
using SinkConnector.Operations;
using SinkConnector.Registry;
using SinkConnector.Schema;

namespace SinkConnector.Cli.Commands;

public static class DlqCommand
{
    public static Command Create()
    {
        var command = new Command(
            "dlq",
            "Inspect, replay and purge this connector's dead letters (<schema>.dead_letters of its consumer group; "
            + "other connectors sharing the schema keep theirs apart).");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Replay());
        command.Subcommands.Add(Purge());
        return command;
    }

    private static Option<bool> JsonOption() => new("--json") { Description = "Print JSON (key and value as base64, plus *_text when valid UTF-8)." };

    private static Command List()
    {
        var config = CliContext.ConfigOption();
        var filters = new FilterOptions(ids: false, before: false);
        var limit = new Option<int>("--limit") { Description = "Show at most N dead letters, oldest first.", DefaultValueFactory = _ => 100 };
        var json = JsonOption();
        var command = new Command("list", "List dead letters: id, mapping, topic, partition, offset, kind, created_at, error; then how many match.")
        {
            config, limit, json,
        };
        filters.AddTo(command);
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError("--limit must be at least 1");
            }
        });
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, config, async (sinkConfig, ct) =>
        {
            await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
            var store = new DeadLetterStore(database, sinkConfig.Connector.Kafka.GroupId);
            var page = await store.ListAsync(filters.Read(parse), parse.GetValue(limit), ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(DeadLetterFormat.Json(page.Rows));
                return ExitCodes.Success;
            }

            if (page.Rows.Count > 0)
            {
                foreach (var line in DeadLetterFormat.Table(page.Rows, DeadLetterFormat.ConsoleWidth()))
                {
                    Console.WriteLine(line);
                }
            }

            Console.WriteLine(page.Total == page.Rows.Count
                ? $"total: {page.Total} dead letters"
                : $"total: {page.Total} dead letters (showing the first {page.Rows.Count}; use --limit or filters)");
            if (await store.CountUnassignedAsync(ct) is > 0 and var unassigned)
            {
                Console.WriteLine(
                    $"note: {unassigned} older dead letters in this schema belong to no connector (group_id is NULL: written before dead letters "
                    + "were kept per connector, by one the migration could not tell); assign them with UPDATE ... SET group_id to see them here");
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static Command Show()
    {
        var config = CliContext.ConfigOption();
        var id = new Argument<long>("id")
        {
            Description = "Dead letter id (from `sink dlq list`).",
            CustomParser = result =>
            {
                var token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed > 0)
                {
                    return parsed;
                }

                result.AddError($"id must be a number (a dead letter id from `sink dlq list`), not '{TerminalText.Escape(token)}'");
                return 0;
            },
        };
        var json = JsonOption();
        var command = new Command("show", "Show one dead letter: every field, key and value as text (JSON pretty-printed) when UTF-8, else hex or base64, headers decoded.")
        {
            id, config, json,
        };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, config, async (sinkConfig, ct) =>
        {
            await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
            var groupId = sinkConfig.Connector.Kafka.GroupId;
            var letter = await new DeadLetterStore(database, groupId).GetAsync(parse.GetValue(id), ct);
            if (letter is null)
            {
                await Console.Error.WriteLineAsync($"sink: dead letter {parse.GetValue(id)} not found among the dead letters of group '{groupId}'");
                return ExitCodes.Failure;
            }

            Console.WriteLine(parse.GetValue(json) ? DeadLetterFormat.Json(letter) : DeadLetterFormat.Details(letter));
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static Command Replay()
    {
        var config = CliContext.ConfigOption();
        var filters = new FilterOptions(topic: false, before: false);
        var command = new Command(
            "replay",
            "Run the selected dead letters (all, without filters) through the CURRENT configuration of their mapping, in "
            + "(topic, partition, offset) order and one transaction: converted rows are written, their dead letters deleted; "
            + "those that still fail (conversion, or Postgres rejects the row) keep their dead letter with the new error. "
            + "Dead letters whose mapping is no longer configured are reported and kept. Concurrent replays write each "
            + "message once. In upsert mode a replayed message overwrites its key's row even if a newer message was written "
            + "since. Exit code 0 when the replay ran, also if some still fail (the output says how many); 1 if it could not run.")
        {
            config,
        };
        filters.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, config, async (sinkConfig, ct) =>
        {
            await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
            using var schemas = sinkConfig.Connector.SchemaRegistry is { } registry ? SchemaRegistryClients.Create(registry) : null;
            // Columns from the schema: replayed with the columns of the registry's newest schema, as a restarted sink would.
            var mappings = (await CliContext.ResolveSchemaColumnsAsync(sinkConfig, ct)).Mappings;
            var result = await DeadLetterReplay.ReplayAsync(database, sinkConfig.Connector.Kafka.GroupId, mappings, filters.Read(parse), ct, schemas);
            foreach (var line in DeadLetterFormat.ReplaySummary(result))
            {
                Console.WriteLine(line);
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static Command Purge()
    {
        var config = CliContext.ConfigOption();
        var filters = new FilterOptions();
        var yes = new Option<bool>("--yes") { Description = "Really delete. Without it, only print how many would be deleted and exit 2." };
        var command = new Command("purge", "Delete the selected dead letters (all, without filters). Needs --yes; there is no prompt.") { config, yes };
        filters.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, config, async (sinkConfig, ct) =>
        {
            await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
            var store = new DeadLetterStore(database, sinkConfig.Connector.Kafka.GroupId);
            if (!parse.GetValue(yes))
            {
                var count = await store.CountAsync(filters.Read(parse), ct);
                Console.WriteLine($"would delete {count} dead letters; nothing deleted: add --yes to delete them");
                return ExitCodes.Usage;
            }

            Console.WriteLine($"deleted {await store.PurgeAsync(filters.Read(parse), ct)} dead letters");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    /// <summary>The selection options the dlq commands share; each command takes the ones that make sense for it.</summary>
    private sealed class FilterOptions(bool topic = true, bool ids = true, bool before = true)
    {
        private readonly Option<string?> _mapping = new("--mapping") { Description = "Only dead letters of this mapping (its file name without extension)." };

        private readonly Option<string?>? _topic = topic ? new("--topic") { Description = "Only dead letters from this topic." } : null;

        private readonly Option<string?> _kind = new("--kind")
        {
            Description = $"Only this error kind: {string.Join(", ", DeadLetterFormat.Kinds)}.",
            CustomParser = result =>
            {
                var token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                var kind = DeadLetterFormat.Kinds.FirstOrDefault(k => k.Equals(token, StringComparison.OrdinalIgnoreCase));
                if (kind is null)
                {
                    result.AddError($"--kind: unknown error kind '{token}'; expected one of: {string.Join(", ", DeadLetterFormat.Kinds)}");
                }

                return kind;
            },
        };

        private readonly Option<long[]?>? _ids = ids ? new("--ids")
        {
            Description = "Only these dead letter ids, comma-separated (1,2,3).",
            CustomParser = result =>
            {
                var parsed = DeadLetterFormat.ParseIds(result.Tokens.Select(t => t.Value));
                if (parsed is null)
                {
                    result.AddError("--ids: expected positive dead letter ids separated by commas, e.g. --ids 1,2,3");
                }

                return parsed;
            },
        } : null;

        private readonly Option<DateTimeOffset?>? _before = before ? new("--before")
        {
            Description = "Only dead letters created before this ISO-8601 time (no offset: UTC).",
            CustomParser = result =>
            {
                var token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (DateTimeOffset.TryParse(token, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
                {
                    return time;
                }

                result.AddError($"--before: '{token}' is not an ISO-8601 time, e.g. 2026-11-21T12:00:00Z");
                return null;
            },
        } : null;

        public void AddTo(Command command)
        {
            command.Options.Add(_mapping);
            command.Options.Add(_kind);
            foreach (var option in new Option?[] { _topic, _ids, _before })
            {
                if (option is not null)
                {
                    command.Options.Add(option);
                }
            }
        }

        public DeadLetterFilter Read(ParseResult parse) => new()
        {
            Mapping = parse.GetValue(_mapping),
            Topic = _topic is null ? null : parse.GetValue(_topic),
            Kind = parse.GetValue(_kind),
            // An array option not given is an empty array, which would select nothing.
            Ids = _ids is not null && parse.GetValue(_ids) is { Length: > 0 } selected ? selected : null,
            Before = _before is null ? null : parse.GetValue(_before),
        };
    }
}
