using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>/metrics, /healthz and OTLP export from the real <c>sink</c> process.</summary>
public partial class ObservabilityTests(TestServices services)
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(2);
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task Metrics_report_rows_written_and_per_partition_lag_with_the_right_values()
    {
        const int partitions = 3, first = 3_000, second = 1_500;
        await using var bed = await SinkTestBed.CreateAsync(services, "metrics", partitions, batch: "max_rows: 100000\n  max_latency: 3s");
        var http = await bed.EnableHttpAsync();
        using var sink = bed.StartSink();
        await bed.ProduceAsync(first, partitions);
        await bed.WaitForRowsAsync(first, s_catchUp, () => sink.Output);
        Assert.Equal("ok", (await GetAsync(http, "healthz")).Body[..2]);

        // Caught up: every partition's lag is 0, and the counters match what was produced.
        var metrics = await WaitForMetricsAsync(http, m => Lags(m).Count == partitions && Lags(m).Values.All(l => l == 0), sink);
        Assert.Equal(first, Value(metrics, "sink_rows_written_total{}"));
        Assert.Equal(first, Value(metrics, $"sink_messages_consumed_total{{messaging_destination_name=\"{bed.Topic}\"}}"));
        Assert.Equal(partitions, Value(metrics, "sink_partitions_assigned{}"));
        Assert.Contains("sink_batch_commit_duration_seconds_bucket{le=\"+Inf\"}", metrics, StringComparison.Ordinal);

        // Writes blocked by a lock: messages are fetched but not committed, so the lag is what Postgres lacks.
        await using var blocker = new NpgsqlConnection(bed.ConnectionString);
        await blocker.OpenAsync(TestContext.Current.CancellationToken);
        await using var transaction = await blocker.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE public.events IN ACCESS EXCLUSIVE MODE", blocker, transaction))
        {
            await lockTable.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        await bed.ProduceAsync(second, partitions, firstId: first);
        var stored = await bed.StoredOffsetsAsync(bed.Topic);
        var expected = Enumerable.Range(0, partitions).ToDictionary(p => p, p => (first + second) / partitions - stored.GetValueOrDefault(p));
        Assert.All(expected.Values, lag => Assert.True(lag > 0));
        await WaitForMetricsAsync(http, m => Lags(m).Count == partitions && Lags(m).All(l => l.Value == expected[l.Key]), sink);

        await transaction.RollbackAsync(TestContext.Current.CancellationToken);
        metrics = await WaitForMetricsAsync(http, m => Lags(m).Values.All(l => l == 0) && Value(m, "sink_rows_written_total{}") == first + second, sink);
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, sink.Output);
        await bed.AssertExactlyOnceAsync(first + second);
    }

    [Fact]
    public async Task Metrics_are_exported_over_otlp_when_the_standard_variables_are_set()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "otlp", partitions: 1);
        using var collector = new HttpListener();
        var port = LocalPorts.Free();
        collector.Prefixes.Add($"http://127.0.0.1:{port}/");
        collector.Start();
        var environment = new Dictionary<string, string>(bed.Environment)
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        };
        using var sink = SinkProcess.Start(["run", "--config", bed.ConfigDirectory], environment);
        await bed.ProduceAsync(100, partitions: 1);
        await bed.WaitForRowsAsync(100, s_catchUp, () => sink.Output);

        // OTLP/HTTP: protobuf POSTs to /v1/metrics; metric names travel as plain UTF-8 strings inside. The lag gauge
        // needs the partition's high watermark, read once a second, so it may start an export or two after the rows.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var seen = "";
        while (!seen.Contains("sink.rows.written", StringComparison.Ordinal) || !seen.Contains("sink.partition.lag", StringComparison.Ordinal))
        {
            var context = await collector.GetContextAsync().WaitAsync(deadline - DateTime.UtcNow, TestContext.Current.CancellationToken);
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body, TestContext.Current.CancellationToken);
            Assert.Equal("/v1/metrics", context.Request.Url!.AbsolutePath);
            seen = Encoding.UTF8.GetString(body.ToArray());
            context.Response.StatusCode = 200;
            context.Response.Close();
        }

        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, sink.Output);
    }

    internal static async Task<(HttpStatusCode Status, string Body)> GetAsync(Uri http, string path)
    {
        using var response = await s_http.GetAsync(new Uri(http, path), TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static async Task<string> WaitForMetricsAsync(Uri http, Func<string, bool> condition, SinkProcess sink)
    {
        var deadline = DateTime.UtcNow + s_catchUp;
        string metrics;
        while (!condition(metrics = (await GetAsync(http, "metrics")).Body))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"metrics never matched:\n{metrics}\n{sink.Output}");
            }

            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        return metrics;
    }

    /// <summary>partition → value of <c>sink_partition_lag</c>.</summary>
    private static Dictionary<int, long> Lags(string metrics) =>
        LagLine().Matches(metrics).ToDictionary(m => int.Parse(m.Groups["p"].Value, CultureInfo.InvariantCulture), m => long.Parse(m.Groups["v"].Value, CultureInfo.InvariantCulture));

    private static double Value(string metrics, string series)
    {
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"no series {series} in:\n{metrics}");
        return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    [GeneratedRegex("""^sink_partition_lag\{[^}]*messaging_destination_partition_id="(?<p>\d+)"[^}]*\} (?<v>\d+)$""", RegexOptions.Multiline)]
    private static partial Regex LagLine();
}
