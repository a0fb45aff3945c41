using System.Diagnostics;
using System.Text;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Config files built to crash or exhaust the process, run through the real <c>sink</c> commands: each ends with
/// exit 2 and <c>file: reason</c>, quickly, with no stack trace. Nothing here reaches Kafka or Postgres.
/// </summary>
public sealed class HostileConfigCliTests : IDisposable
{
    private const string Sink = """
        name: hostile
        kafka:
          bootstrap_servers: 127.0.0.1:1
        postgres:
          connection_string: Host=127.0.0.1;Port=1;Database=app
        """;

    private const string Mapping = """
        topic: events
        table: public.events
        columns:
          id: { from: value.id, type: bigint }
        """;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "sink-hostile-config", Guid.NewGuid().ToString("N"));
    private readonly string _outside = Path.Combine(Path.GetTempPath(), "sink-hostile-config", Guid.NewGuid().ToString("N") + "-outside");

    public HostileConfigCliTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "mappings"));
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Combine(_root, "sink.yaml"), Sink);
        File.WriteAllText(MappingFile, Mapping);
    }

    private string MappingFile => Path.Combine(_root, "mappings", "events.yaml");

    private string SinkFile => Path.Combine(_root, "sink.yaml");

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    private static string BillionLaughsKey()
    {
        var yaml = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var i = 1; i < 10; i++)
        {
            yaml.Append($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n");
        }

        return yaml.Append("? *a9\n: boom\n").ToString();
    }

    private async Task<string> FailsWithExit2Async(string command, string expected)
    {
        var stopwatch = Stopwatch.StartNew();
        var (exit, output) = await SinkProcess.RunToEndAsync([command, "--config", _root], timeout: TimeSpan.FromSeconds(60));

        Assert.True(exit == 2, $"exit {exit}:\n{output}");
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected failure", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        // Process start-up is a second or two; the limits make the file itself cost nothing more.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"took {stopwatch.Elapsed}");
        return output;
    }

    [Fact]
    public async Task Validate_refuses_a_mapping_nested_100000_levels_deep()
    {
        await File.WriteAllTextAsync(MappingFile, Mapping + "\nx: " + new string('[', 100_000) + "\n", TestContext.Current.CancellationToken);

        await FailsWithExit2Async("validate", $"{MappingFile}: YAML syntax error at line 5, column 67: lists and mappings are nested more than 64 levels deep");
    }

    [Fact]
    public async Task Validate_refuses_a_self_referencing_alias_key_and_billion_laughs()
    {
        await File.WriteAllTextAsync(MappingFile, Mapping + "\n? &y [ *y ]\n: 1\n", TestContext.Current.CancellationToken);
        await FailsWithExit2Async("validate", "recursive aliases are not supported");

        await File.WriteAllTextAsync(MappingFile, Mapping + "\n" + BillionLaughsKey(), TestContext.Current.CancellationToken);
        await FailsWithExit2Async("validate", "aliases expand to more than 10000 nodes");
    }

    [Fact]
    public async Task Validate_refuses_a_mapping_linked_outside_the_config_directory_without_printing_it()
    {
        var secret = Path.Combine(_outside, "shadow");
        await File.WriteAllTextAsync(secret, "root:$6$must-not-be-printed:19000::::::\n", TestContext.Current.CancellationToken);
        File.Delete(MappingFile);
        File.CreateSymbolicLink(MappingFile, secret);

        var output = await FailsWithExit2Async("validate", $"{MappingFile}: is a symbolic link to a file outside the configuration directory");
        Assert.DoesNotContain("must-not-be-printed", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("validate", "Databse=app", "postgres.connection_string: ")]
    [InlineData("run", "Databse=app", "postgres.connection_string: ")]
    [InlineData("status", "postgresql://app:hunter22@db/app?sslmod=require", "postgres.connection_string: URI parameter 'sslmod' is not supported")]
    public async Task Every_command_reports_a_bad_connection_string_as_a_config_error(string command, string connectionString, string expected)
    {
        await File.WriteAllTextAsync(SinkFile, Sink.Replace("Host=127.0.0.1;Port=1;Database=app", connectionString, StringComparison.Ordinal), TestContext.Current.CancellationToken);

        var stopwatch = Stopwatch.StartNew();
        var (exit, output) = await SinkProcess.RunToEndAsync([command, "--config", _root], timeout: TimeSpan.FromSeconds(60));

        Assert.True(exit == 2, $"exit {exit}:\n{output}");
        Assert.Contains($"{SinkFile}: {expected}", output, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter22", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"took {stopwatch.Elapsed}");
    }

    [Theory]
    [InlineData("kafka:\n  bootstrap_servers: 127.0.0.1:1\n  properties:\n    session.timeout.ms: abc", "kafka.properties.session.timeout.ms: librdkafka rejects it")]
    [InlineData("kafka:\n  bootstrap_servers: 127.0.0.1:1\n  properties:\n    plugin.library.paths: /tmp/x.so", "kafka.properties.plugin.library.paths: cannot be set here")]
    [InlineData("kafka:\n  bootstrap_servers: 127.0.0.1:1\nbatch:\n  max_latency: 99999999h", "batch.max_latency: must be at most 24h")]
    [InlineData("kafka:\n  bootstrap_servers: 127.0.0.1:1\nhttp:\n  listen: '*;x:18096'", "http.listen: '*;x:18096' is not host:port")]
    public async Task Run_reports_what_it_would_have_crashed_on_as_a_config_error(string replacement, string expected)
    {
        await File.WriteAllTextAsync(SinkFile, Sink.Replace("kafka:\n  bootstrap_servers: 127.0.0.1:1", replacement, StringComparison.Ordinal), TestContext.Current.CancellationToken);

        await FailsWithExit2Async("run", $"{SinkFile}: {expected}");
    }
}
