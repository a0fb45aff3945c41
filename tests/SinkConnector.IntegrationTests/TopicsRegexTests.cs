using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary><c>topics_regex</c> with a table template through the <c>sink</c> process: topics that appear while it runs.</summary>
public class TopicsRegexTests(TestServices services)
{
    [Fact]
    public async Task A_matching_topic_created_while_the_sink_runs_lands_once_in_its_own_auto_created_table_across_a_kill()
    {
        const int first = 200;
        const int second = 300;
        // The test clients' topic.metadata.refresh.interval.ms (2 s) wins over the 10 s default of regex subscriptions.
        await using var bed = await SinkTestBed.CreateAsync(services, "regex", 1);
        var prefix = "rx" + Guid.NewGuid().ToString("N")[..6];
        await bed.WriteMappingAsync("events.yaml", $$"""
            topics_regex: '{{prefix}}-(?<suffix>[0-9a-f]+)'
            table: public.{{prefix}}_{suffix}
            auto_create: true
            on_error: fail
            columns:
              id:            { from: value.id, type: bigint }
              body:          { from: value.body, type: text }
              src_partition: { from: partition, type: integer }
              src_offset:    { from: offset, type: bigint }
            """);
        var existing = await bed.AddTopicAsync(prefix, 2);
        await bed.ProduceAsync(existing, Enumerable.Range(0, first).Select(i => (i % 2, SinkTestBed.Event(i))));

        using (var sink = bed.StartSink())
        {
            await bed.WaitForCommittedAsync(first, TimeSpan.FromSeconds(40), () => sink.Output);
            var created = await bed.AddTopicAsync(prefix, 2);
            await bed.ProduceAsync(created, Enumerable.Range(0, second).Select(i => (i % 2, SinkTestBed.Event(i))));
            // Killed once the new topic's first batch committed, while the rest of it streams in.
            await bed.WaitForCommittedAsync(first + 1, TimeSpan.FromSeconds(40), () => sink.Output);
            sink.Signal(SinkProcess.SIGKILL);
            await sink.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await bed.RunToCompletionAsync(first + second);
            await AssertOnceAsync(bed, existing, first);
            await AssertOnceAsync(bed, created, second);
        }
    }

    [Fact]
    public async Task Validate_lists_each_existing_matching_topic_with_its_table_and_refuses_a_missing_one_without_auto_create()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "regexvalidate", 1);
        var prefix = "rv" + Guid.NewGuid().ToString("N")[..6];
        var withTable = await bed.AddTopicAsync(prefix, 1);
        var withoutTable = await bed.AddTopicAsync(prefix, 1);
        var tableOf = (string topic) => topic.Replace('-', '_');
        await bed.ExecuteAsync($"CREATE TABLE public.\"{tableOf(withTable)}\" (id bigint NOT NULL)");
        var mapping = $$"""
            topics_regex: '{{prefix}}-.*'
            table: public.{topic}
            columns:
              id: { from: value.id, type: bigint }
            """;
        await bed.WriteMappingAsync("events.yaml", mapping + "\nauto_create: true\n");

        var (exit, output) = await SinkProcess.RunToEndAsync(["validate", "--config", bed.ConfigDirectory], bed.Environment);

        Assert.True(exit == 0, output);
        Assert.Contains($"mapping events: topics_regex '{prefix}-.*' matches 2 existing topic(s)", output, StringComparison.Ordinal);
        Assert.Contains($"  {withTable} -> \"public\".\"{tableOf(withTable)}\"\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains($"  {withoutTable} -> \"public\".\"{tableOf(withoutTable)}\" (created when the topic is first written: auto_create)", output, StringComparison.Ordinal);

        await bed.WriteMappingAsync("events.yaml", mapping);
        (exit, output) = await SinkProcess.RunToEndAsync(["validate", "--config", bed.ConfigDirectory], bed.Environment);

        Assert.True(exit == 2, output);
        Assert.Contains($"table public.{tableOf(withoutTable)} does not exist", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_and_run_refuse_partition_with_a_template_and_columns_from_schema_with_a_regex_naming_file_key_and_what_to_write()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "regexrefused", 1);
        // Refused while loading: the registry is never asked.
        await bed.EnableSchemaRegistryAsync("http://127.0.0.1:9");
        await bed.WriteMappingAsync("events.yaml", """
            topics_regex: 'readings\..*'
            table: public.readings_{topic}
            auto_create: true
            partition: { by: created_at, interval: 1 day, ahead: 2 }
            columns:
              id:         { from: value.id, type: bigint }
              created_at: { from: value.created_at, type: timestamptz }
            """);
        await bed.WriteMappingAsync("shop.yaml", """
            topics_regex: 'shop\..*'
            table: public.shop_{topic}
            format: avro
            auto_create: true
            """);
        var mappings = Path.Combine(bed.ConfigDirectory, "mappings");

        foreach (var command in new[] { "validate", "run" })
        {
            var (exit, output) = await SinkProcess.RunToEndAsync([command, "--config", bed.ConfigDirectory], bed.Environment);

            Assert.True(exit == 2, output);
            Assert.Contains($"{Path.Combine(mappings, "events.yaml")}: partition: cannot be combined with a table template yet: ", output, StringComparison.Ordinal);
            Assert.Contains("Write one mapping per topic (topic: and a fixed table:) with partition:", output, StringComparison.Ordinal);
            Assert.Contains($"{Path.Combine(mappings, "shop.yaml")}: columns_from_schema: cannot be combined with topics_regex yet: ", output, StringComparison.Ordinal);
            Assert.Contains("List the columns under columns:, or write one mapping per topic (topic:) with columns_from_schema", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Without_auto_create_a_missing_templated_table_stops_the_sink_naming_topic_table_and_fix_with_nothing_committed()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "regexmissing", 1);
        var prefix = "rm" + Guid.NewGuid().ToString("N")[..6];
        var topic = await bed.AddTopicAsync(prefix, 1);
        await bed.WriteMappingAsync("events.yaml", $$"""
            topics_regex: '{{prefix}}-.*'
            table: public.t_{topic}
            columns:
              id: { from: value.id, type: bigint }
            """);
        await bed.ProduceAsync(topic, Enumerable.Range(0, 5).Select(i => (0, SinkTestBed.Event(i))));

        using var sink = bed.StartSink();
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(40));

        Assert.True(sink.ExitCode == 1, sink.Output);
        Assert.Contains($"topic {topic} maps to table public.t_{topic.Replace('-', '_')}", sink.Output, StringComparison.Ordinal);
        Assert.Contains("set auto_create: true", sink.Output, StringComparison.Ordinal);
        Assert.Empty(await bed.StoredOffsetsAsync(topic));
    }

    private static async Task AssertOnceAsync(SinkTestBed bed, string topic, int count)
    {
        var table = $"public.\"{topic.Replace('-', '_')}\"";
        Assert.Equal(count, await bed.ScalarAsync($"SELECT count(*) FROM {table}"));
        Assert.Equal(count, await bed.ScalarAsync($"SELECT count(DISTINCT id) FROM {table} WHERE body = 'event ' || id"));
        Assert.Equal(count, await bed.ScalarAsync($"SELECT count(DISTINCT (src_partition, src_offset)) FROM {table}"));
        Assert.Equal(count, (await bed.StoredOffsetsAsync(topic)).Values.Sum());
    }
}
