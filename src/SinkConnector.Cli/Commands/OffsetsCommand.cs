using System.CommandLine;
using System.Globalization;
using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Kafka;
using SinkConnector.Postgres;

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
            await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
            var store = new OffsetStore(database, sinkConfig.Connector.Kafka.GroupId, owner: "cli");
            var rows = await store.ListAsync(parse.GetValue(topic)!, parse.GetValue(partition), ct);
            Console.WriteLine($"{"partition",9}  {"next_offset",12}  {"epoch",6}  {"updated_at",-33}  owner");
            foreach (var row in rows)
            {
                Console.WriteLine($"{row.Partition,9}  {row.NextOffset?.ToString(CultureInfo.InvariantCulture) ?? "-",12}  {row.Epoch,6}  {row.UpdatedAt.ToString("O"),-33}  {row.Owner}");
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
            if (!sinkConfig.Mappings.Any(m => m.Topics.Contains(topicName)))
            {
                await Console.Error.WriteLineAsync($"sink: topic '{topicName}' is not mapped by any file in {sinkConfig.Directory}/mappings");
                return ExitCodes.Usage;
            }

            using var kafka = new TopicInspector(sinkConfig.Connector);
            var partitions = parse.GetValue(partition) is { } one ? [one] : kafka.Partitions(topicName);
            var targets = new Dictionary<int, long>();
            foreach (var p in partitions)
            {
                var tp = new TopicPartition(topicName, p);
                targets[p] = parse.GetValue(toOffset) ?? (parse.GetValue(toTimestamp) is { } time ? kafka.OffsetForTime(tp, time)
                    : parse.GetValue(toLatest) ? kafka.Watermarks(tp).High.Value : kafka.Watermarks(tp).Low.Value);
            }

            await using var database = new SinkDatabase(sinkConfig.Connector.Postgres);
            await new OffsetStore(database, sinkConfig.Connector.Kafka.GroupId, owner: "cli").ResetAsync(topicName, targets, ct);
            foreach (var (p, next) in targets.OrderBy(t => t.Key))
            {
                Console.WriteLine($"{topicName}[{p}] next offset set to {next}");
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
