using System.Text.RegularExpressions;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>What <c>sink run</c> writes to its log: readable, rate-limited, complete at Debug, and configured strictly.</summary>
public partial class LoggingTests(TestServices services)
{
    [Fact]
    public async Task With_no_broker_reachable_repeated_client_errors_are_rate_limited_and_the_assignment_wait_is_logged()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "nobroker", partitions: 1);
        var environment = new Dictionary<string, string>(bed.Environment) { ["KAFKA_BOOTSTRAP"] = $"127.0.0.1:{LocalPorts.Free()}" };
        using var sink = SinkProcess.Start(["run", "--config", bed.ConfigDirectory], environment);
        await sink.WaitForOutputAsync("Subscribed to", TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        var output = sink.Output;
        var lines = output.Split('\n');
        // librdkafka reports "1/1 brokers are down" every few dozen milliseconds for as long as it lasts.
        Assert.True(lines.Count(l => l.Contains("brokers are down", StringComparison.Ordinal)) == 1, output);
        Assert.True(lines.Count(l => l.Contains("Kafka error", StringComparison.Ordinal)) <= 10, output);
        Assert.Contains($"Waiting for partition assignment from group {bed.GroupId}", output, StringComparison.Ordinal);

        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task librdkafka_debug_output_is_logged_at_Debug_with_ISO_timestamps_and_start_offsets_in_words()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "kdebug", partitions: 1,
            kafkaProperties: new Dictionary<string, string> { ["debug"] = "cgrp" });
        var environment = new Dictionary<string, string>(bed.Environment) { ["SINK_LOG_LEVEL"] = "debug" };
        using var sink = SinkProcess.Start(["run", "--config", bed.ConfigDirectory], environment);
        await sink.WaitForOutputAsync("Claimed", TimeSpan.FromMinutes(2));
        await sink.WaitForOutputAsync("] librdkafka ", TimeSpan.FromSeconds(30));

        var output = sink.Output;
        Assert.Contains("resuming at the beginning of the partition", output, StringComparison.Ordinal);
        Assert.All(output.Split('\n').Where(l => l.Contains(": sink[", StringComparison.Ordinal)), line => Assert.Matches(IsoTimestamp(), line));

        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, sink.Output);
    }

    [Theory]
    [InlineData("SINK_LOG_LEVEL", "verbose", "use one of Trace, Debug, Information, Warning, Error, Critical, None")]
    [InlineData("SINK_LOG_LEVEL", "7", "use one of Trace, Debug, Information, Warning, Error, Critical, None")]
    [InlineData("SINK_LOG_FORMAT", "xml", "use one of text, json")]
    public async Task An_invalid_log_setting_exits_2_naming_the_allowed_values(string variable, string value, string expected)
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "logset", partitions: 1);
        var environment = new Dictionary<string, string>(bed.Environment) { [variable] = value };

        var (exit, output) = await SinkProcess.RunToEndAsync(["run", "--config", bed.ConfigDirectory], environment, TimeSpan.FromSeconds(60));

        Assert.True(exit == 2, output);
        Assert.Contains($"{variable}: '{value}' is not", output, StringComparison.Ordinal);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")]
    private static partial Regex IsoTimestamp();
}
