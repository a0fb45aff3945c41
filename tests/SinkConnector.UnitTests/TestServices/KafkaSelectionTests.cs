using SinkConnector.Testing;

namespace SinkConnector.UnitTests.TestServices;

public sealed class KafkaSelectionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("kafka-selection-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static KafkaChoice Choose(Dictionary<string, string> environment, bool distribution = true, bool docker = false) =>
        KafkaSelection.Choose(name => environment.GetValueOrDefault(name), _ => distribution, () => docker);

    [Fact]
    public void Nothing_set_and_no_docker_selects_the_mock_cluster()
    {
        var choice = Choose([]);

        Assert.Equal(KafkaSource.Mock, choice.Source);
        Assert.Null(choice.Location);
    }

    [Fact]
    public void A_reachable_docker_engine_selects_a_kafka_container_before_the_mock()
    {
        var choice = Choose([], docker: true);

        Assert.Equal((KafkaSource.Container, KafkaSelection.ContainerImage), (choice.Source, choice.Location));
    }

    [Fact]
    public void Local_binaries_come_before_a_container()
    {
        Assert.Equal(KafkaSource.LocalBroker, Choose(new() { ["KAFKA_HOME"] = "/opt/kafka" }, docker: true).Source);
        Assert.Equal(KafkaSource.External, Choose(new() { ["SINK_TEST_KAFKA"] = "broker:9092" }, docker: true).Source);
    }

    [Fact]
    public void SINK_TEST_KAFKA_mock_forces_the_mock_cluster_even_with_docker()
    {
        Assert.Equal(KafkaSource.Mock, Choose(new() { ["SINK_TEST_KAFKA"] = "mock" }, docker: true).Source);
    }

    [Fact]
    public void A_running_broker_named_by_SINK_TEST_KAFKA_comes_before_local_binaries()
    {
        var choice = Choose(new() { ["SINK_TEST_KAFKA"] = " broker:9092 ", ["KAFKA_HOME"] = "/opt/kafka" });

        Assert.Equal((KafkaSource.External, "broker:9092"), (choice.Source, choice.Location));
    }

    [Fact]
    public void KAFKA_HOME_naming_a_distribution_selects_a_local_broker_from_it()
    {
        var choice = Choose(new() { ["KAFKA_HOME"] = "/opt/kafka" });

        Assert.Equal((KafkaSource.LocalBroker, "/opt/kafka"), (choice.Source, choice.Location));
    }

    [Fact]
    public void KAFKA_HOME_naming_no_distribution_fails_instead_of_falling_back_to_the_mock()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Choose(new() { ["KAFKA_HOME"] = "/opt/nothing" }, distribution: false));

        Assert.Contains("KAFKA_HOME=/opt/nothing is not a Kafka distribution", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SINK_TEST_KAFKA_mock_forces_the_mock_cluster_even_with_KAFKA_HOME()
    {
        Assert.Equal(KafkaSource.Mock, Choose(new() { ["SINK_TEST_KAFKA"] = "mock", ["KAFKA_HOME"] = "/opt/kafka" }).Source);
    }

    [Fact]
    public void Blank_variables_count_as_unset()
    {
        Assert.Equal(KafkaSource.Mock, Choose(new() { ["SINK_TEST_KAFKA"] = "", ["KAFKA_HOME"] = "  " }).Source);
    }

    [Theory]
    [InlineData("kafka_2.11-2.4.0.jar", true)]
    [InlineData("kafka_2.13-3.7.1.jar", true)]
    [InlineData("kafka_2.13-3.7.1-sources.jar", false)]
    [InlineData("kafka-clients-2.4.0.jar", false)]
    public void A_distribution_is_a_folder_with_the_broker_jar_in_libs(string jar, bool expected)
    {
        Directory.CreateDirectory(Path.Combine(_folder, "libs"));
        File.WriteAllText(Path.Combine(_folder, "libs", jar), "");

        Assert.Equal(expected, LocalKafkaBroker.IsDistribution(_folder));
    }

    [Fact]
    public void A_folder_without_libs_is_no_distribution()
    {
        Assert.False(LocalKafkaBroker.IsDistribution(_folder));
        Assert.False(LocalKafkaBroker.IsDistribution(Path.Combine(_folder, "missing")));
    }
}
