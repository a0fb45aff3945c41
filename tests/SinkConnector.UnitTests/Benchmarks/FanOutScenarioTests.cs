using System.Text;
using SinkConnector.Benchmarks;
using SinkConnector.Benchmarks.Scenarios;
using SinkConnector.Configuration.Loading;
using SinkConnector.Testing;

namespace SinkConnector.UnitTests.Benchmarks;

/// <summary>The benchmark's fan-out scenario (issue #24): its messages' headers and the three mappings it writes.</summary>
public sealed class FanOutScenarioTests
{
    [Fact]
    public void Every_message_carries_a_kind_header_and_each_kind_gets_a_third()
    {
        var workload = OrderWorkload.Generate(300, overlap: 0.5, partitions: 4);

        var kinds = FanOut.Messages(workload)
            .Select(m => Encoding.UTF8.GetString(Assert.Single(m.Message.Headers, h => h.Key == FanOut.Header).GetValueBytes()))
            .ToList();

        Assert.Equal(300, kinds.Count);
        Assert.All(FanOut.Kinds, kind => Assert.Equal(100, kinds.Count(k => k == kind)));
        Assert.Equal(FanOut.Kinds, kinds.Take(3));
    }

    [Fact]
    public void The_sink_config_reads_one_topic_with_three_conditional_mappings_into_three_tables()
    {
        var directory = Directory.CreateTempSubdirectory("fanout-config-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(directory, "mappings"));
            File.WriteAllText(Path.Combine(directory, "sink.yaml"), SinkYaml.Render("fanout", [], "max_rows: 10000", shutdownGrace: "30s"));
            File.WriteAllText(Path.Combine(directory, "mappings", "orders.yaml"), "topic: other\ntable: public.other\ncolumns:\n  id: { from: value.id, type: bigint }\n");

            FanOut.WriteMappings(directory, "orders-fanout");

            var environment = new Dictionary<string, string> { ["KAFKA_BOOTSTRAP"] = "localhost:9092", ["SINK_POSTGRES"] = "Host=localhost;Database=bench" };
            var mappings = ConfigLoader.Load(directory, environment.GetValueOrDefault).Mappings;
            Assert.Equal(3, mappings.Count);
            Assert.All(mappings, m => Assert.Equal("orders-fanout", Assert.Single(m.Topics)));
            Assert.All(mappings, m => Assert.NotNull(m.When));
            Assert.Equal(FanOut.Kinds.Select(FanOut.Table).Order(), mappings.Select(m => m.Table.ToString()).Order());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
