using System.CommandLine;
using System.Globalization;
using SinkConnector.Configuration;
using SinkConnector.Configuration.Loading;
using SinkConnector.Kafka;
using SinkConnector.Offsets;
using SinkConnector.Operations;
using SinkConnector.Schema;

namespace SinkConnector.Cli.Commands;

public static class OffsetsCommand
{
    public static Command Create()
    {
        var command = new Command("offsets", "Read or rewind the offsets kept in Postgres (the source of truth).");
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Reset());
        return command;
    }

    private static Option<string> TopicOption() => new("--topic") { Description = "Topic name.", Required = true };

    private static Option<int?> PartitionOption() => new("--partition") { Description = "One partition (default: all)." };

    private static Command Show()
    {
        var config = CliContext.ConfigOption();
        var topic = TopicOption();
        var partition = PartitionOption();
        var command = new Command("show", "Show stored next offset, epoch, owner and last update per partition.") { config, topic, partition };
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, config, async (sinkConfig, ct) =>
        {
            if (!await IsMappedAsync(sinkConfig, parse.GetValue(topic)!))
            {
                return ExitCodes.Usage;
            }

            await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
            var store = new OffsetStore(database, sinkConfig.Connector.Kafka.GroupId, owner: "cli");
            var rows = await store.ListAsync(parse.GetValue(topic)!, parse.GetValue(partition), ct);
            Console.WriteLine($"{"partition",9}  {"next_offset",12}  {"epoch",6}  {"updated_at",-24}  owner");
            foreach (var row in rows)
            {
                Console.WriteLine($"{row.Partition,9}  {row.NextOffset?.ToString(CultureInfo.InvariantCulture) ?? "-",12}  {row.Epoch,6}  {CliTime.Text(row.UpdatedAt),-24}  {row.Owner}");
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static Command Reset()
    {
        var config = CliContext.ConfigOption();
        var topic = TopicOption();
        var partition = PartitionOption();
        var toEarliest = new Option<bool>("--to-earliest") { Description = "Rewind to the earliest offset Kafka still has." };
        var toLatest = new Option<bool>("--to-latest") { Description = "Skip to the high watermark." };
        var toOffset = new Option<long?>("--to-offset") { Description = "Set the next offset to N." };
        var toTimestamp = new Option<DateTimeOffset?>("--to-timestamp") { Description = "First offset at or after this ISO-8601 time." };
        var command = new Command("reset", "Set the next offsets kept in Postgres; a running owner is fenced and resumes from them.")
        {
            config, topic, partition, toEarliest, toLatest, toOffset, toTimestamp,
        };
        command.Validators.Add(result =>
        {
            var chosen = new[] { result.GetValue(toEarliest), result.GetValue(toLatest), result.GetValue(toOffset) is not null, result.GetValue(toTimestamp) is not null }.Count(x => x);
            if (chosen != 1)
            {
                result.AddError("choose exactly one of --to-earliest, --to-latest, --to-offset N, --to-timestamp ISO8601");
            }

            if (result.GetValue(toOffset) is < 0)
            {
                result.AddError("--to-offset must be >= 0");
            }
        });
        command.SetAction((parse, cancellationToken) => CliContext.RunAsync(parse, config, async (sinkConfig, ct) =>
        {
            var topicName = parse.GetValue(topic)!;
            if (!await IsMappedAsync(sinkConfig, topicName))
            {
                return ExitCodes.Usage;
            }

            var target = new ResetTarget(parse.GetValue(toEarliest), parse.GetValue(toLatest), parse.GetValue(toOffset), parse.GetValue(toTimestamp));
            OffsetResetPlan plan;
            using (var kafka = new TopicInspector(sinkConfig.Connector))
            {
                plan = OffsetReset.Plan(kafka, topicName, parse.GetValue(partition), target);
            }

            if (plan.Problems.Count > 0)
            {
                foreach (var problem in plan.Problems)
                {
                    await Console.Error.WriteLineAsync($"sink: {problem}");
                }

                await Console.Error.WriteLineAsync("sink: nothing was changed");
                return ExitCodes.Usage;
            }

            await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
            await new OffsetStore(database, sinkConfig.Connector.Kafka.GroupId, owner: "cli")
                .ResetAsync(topicName, plan.Partitions.ToDictionary(p => p.Partition, p => p.NextOffset), ct);
            foreach (var p in plan.Partitions)
            {
                Console.WriteLine($"{topicName}[{p.Partition}] next offset set to {p.NextOffset} (Kafka holds {p.LowWatermark} to {p.HighWatermark})");
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    /// <summary>Offsets are kept only for mapped topics: anything else is a typo, said with the topics that are mapped.</summary>
    private static async Task<bool> IsMappedAsync(SinkConfig config, string topic)
    {
        if (config.Mappings.Reads(topic))
        {
            return true;
        }

        var mapped = config.Mappings.SelectMany(m => m.TopicsRegex is { } regex ? [$"topics_regex '{regex}'"] : m.Topics).Distinct().Order(StringComparer.Ordinal);
        await Console.Error.WriteLineAsync(
            $"sink: --topic {topic}: topic '{topic}' is not mapped by any file in {Path.Combine(config.Directory, ConfigLoader.MappingsDirectoryName)}; "
            + $"mapped topics: {string.Join(", ", mapped)}");
        return false;
    }
}
