using System.Net;
using Confluent.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SinkConnector.Cli;
using SinkConnector.Configuration;
using SinkConnector.Observability;

namespace SinkConnector.UnitTests.Observability;

/// <summary>
/// <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c> as <c>sink run</c> serves them (its Kestrel, health checks and
/// OpenTelemetry Prometheus exporter), in process on a loopback port. One class: the meter is found by name, so two
/// tests recording at once would see each other's values.
/// </summary>
[Collection(SinkMetricsMeter.Name)]
public sealed class HttpEndpointsTests : IAsyncLifetime
{
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly ManualTime _time = new();
    private WebApplication _app = null!;
    private SinkHealth _health = null!;

    private SinkMetrics Metrics => _app.Services.GetRequiredService<SinkMetrics>();

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        _health = new SinkHealth(_time);
        Telemetry.AddMetrics(builder, prometheus: true);
        HttpEndpoints.Add(builder, new HttpSettings("127.0.0.1:0"), _health);
        _app = builder.Build();
        HttpEndpoints.Map(_app);
        await _app.StartAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Every_documented_metric_is_served_under_its_documented_name_with_its_values()
    {
        var partition = new TopicPartition("orders", 2);
        Metrics.Consumed("orders", 42);
        Metrics.RowsWritten(40);
        Metrics.Skipped("orders", "skip_when");
        Metrics.RowsWritten(2);
        Metrics.DeadLettered("orders", "Rejected");
        Metrics.BatchCommitted(TimeSpan.FromMilliseconds(30));
        Metrics.Fenced(partition);
        Metrics.Rebalanced("assigned");
        Metrics.Retried("write");
        Metrics.Claimed(partition, committed: 100);
        Metrics.Watermark(partition, 130);

        var (status, contentType, text) = await GetAsync("metrics");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("text/plain", contentType, StringComparison.Ordinal);
        Has(text, "# TYPE sink_messages_consumed_total counter\n");
        Has(text, "sink_messages_consumed_total{messaging_destination_name=\"orders\"} 42");
        Has(text, "sink_messages_skipped_total{messaging_destination_name=\"orders\",sink_skip_reason=\"skip_when\"} 1");
        Has(text, "# TYPE sink_rows_written_total counter\n");
        Has(text, "\nsink_rows_written_total{} 42");
        Has(text, "sink_dead_letters_total{error_type=\"Rejected\",sink_mapping=\"orders\"} 1");
        Has(text, "\nsink_batches_total{} 1");
        Has(text, "# TYPE sink_batch_commit_duration_seconds histogram\n");
        Has(text, "sink_batch_commit_duration_seconds_bucket{le=\"0.025\"} 0");
        Has(text, "sink_batch_commit_duration_seconds_bucket{le=\"0.05\"} 1");
        Has(text, "sink_batch_commit_duration_seconds_bucket{le=\"30\"} 1");
        Has(text, "sink_batch_commit_duration_seconds_bucket{le=\"+Inf\"} 1");
        Has(text, "sink_batch_commit_duration_seconds_count{} 1");
        Has(text, "sink_fenced_total{messaging_destination_name=\"orders\",messaging_destination_partition_id=\"2\"} 1");
        Has(text, "sink_rebalances_total{sink_rebalance_kind=\"assigned\"} 1");
        Has(text, "sink_retries_total{sink_operation=\"write\"} 1");
        Has(text, "# TYPE sink_partition_lag gauge\n");
        Has(text, "sink_partition_lag{messaging_destination_name=\"orders\",messaging_destination_partition_id=\"2\"} 30");
        Has(text, "\nsink_partitions_assigned{} 1");
        // A series without attributes comes as name{} value: the same series to Prometheus as name value.
        // Only the sink's own series: no scope labels, no target_info.
        HasNot(text, "otel_scope");
        HasNot(text, "target_info");
    }

    [Fact]
    public async Task A_released_partition_disappears_from_the_gauges_on_the_next_scrape()
    {
        var partition = new TopicPartition("orders", 0);
        Metrics.Claimed(partition, committed: 5);
        Metrics.Watermark(partition, 9);
        Assert.Contains("sink_partition_lag{", (await GetAsync("metrics")).Body, StringComparison.Ordinal);

        Metrics.Released(partition);

        var text = (await GetAsync("metrics")).Body;
        HasNot(text, "sink_partition_lag{");
        Has(text, "\nsink_partitions_assigned{} 0");
    }

    [Fact]
    public async Task Lag_is_unknown_until_both_the_committed_offset_and_the_high_watermark_are()
    {
        var partition = new TopicPartition("orders", 0);
        Metrics.Claimed(partition, committed: null);
        Metrics.Watermark(partition, 9);
        Assert.DoesNotContain("sink_partition_lag{", (await GetAsync("metrics")).Body, StringComparison.Ordinal);

        Metrics.Committed(partition, 4);

        Assert.Contains("messaging_destination_partition_id=\"0\"} 5", (await GetAsync("metrics")).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthz_and_readyz_answer_200_ok_or_503_failing_with_the_reason_as_plain_text()
    {
        Assert.Equal((HttpStatusCode.OK, "text/plain; charset=utf-8", "ok: starting: not polled yet\n"), await GetAsync("healthz"));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "text/plain; charset=utf-8", "failing: not in the consumer group (yet)\n"), await GetAsync("readyz"));

        _health.Polled();
        _health.Joined();
        Assert.Equal((HttpStatusCode.OK, "text/plain; charset=utf-8", "ok: last poll 0.0 s ago\n"), await GetAsync("healthz"));
        Assert.Equal((HttpStatusCode.OK, "text/plain; charset=utf-8", "ok: in the group, Postgres answering\n"), await GetAsync("readyz"));

        _time.Now += SinkHealth.PollStall + TimeSpan.FromSeconds(1);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "text/plain; charset=utf-8", "failing: last poll 31.0 s ago\n"), await GetAsync("healthz"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await GetAsync("readyz")).Status);
    }

    private static void Has(string text, string expected) => Assert.True(text.Contains(expected, StringComparison.Ordinal), $"no {expected} in:\n{text}");

    private static void HasNot(string text, string unexpected) => Assert.False(text.Contains(unexpected, StringComparison.Ordinal), $"{unexpected} in:\n{text}");

    private async Task<(HttpStatusCode Status, string? ContentType, string Body)> GetAsync(string path)
    {
        using var response = await s_http.GetAsync(new Uri(new Uri(_app.Urls.Single()), path), TestContext.Current.CancellationToken);
        return (response.StatusCode, response.Content.Headers.ContentType?.ToString(), await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
