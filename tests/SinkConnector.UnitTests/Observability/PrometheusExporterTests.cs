using Confluent.Kafka;
using SinkConnector.Observability;

namespace SinkConnector.UnitTests.Observability;

public class PrometheusExporterTests
{
    [Fact]
    public void Counters_histograms_and_gauges_render_in_the_prometheus_text_format()
    {
        using var exporter = new PrometheusExporter();
        using var metrics = new SinkMetrics();
        var partition = new TopicPartition("orders", 2);
        metrics.RowsWritten(40);
        metrics.RowsWritten(2);
        metrics.BatchCommitted(TimeSpan.FromMilliseconds(30));
        metrics.Claimed(partition, committed: 100);
        metrics.Watermark(partition, 130);

        var text = exporter.Render();

        Assert.Contains("# TYPE sink_rows_written_total counter\nsink_rows_written_total 42\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE sink_batch_commit_duration_seconds histogram\n", text, StringComparison.Ordinal);
        Assert.Contains("sink_batch_commit_duration_seconds_bucket{le=\"0.025\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("sink_batch_commit_duration_seconds_bucket{le=\"0.05\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("sink_batch_commit_duration_seconds_count 1\n", text, StringComparison.Ordinal);
        Assert.Contains(
            "sink_partition_lag{messaging_destination_name=\"orders\",messaging_destination_partition_id=\"2\"} 30\n", text, StringComparison.Ordinal);
        Assert.Contains("sink_partitions_assigned 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_released_partition_disappears_from_the_gauges()
    {
        using var exporter = new PrometheusExporter();
        using var metrics = new SinkMetrics();
        var partition = new TopicPartition("orders", 0);
        metrics.Claimed(partition, committed: 5);
        metrics.Watermark(partition, 9);
        Assert.Contains("sink_partition_lag{", exporter.Render(), StringComparison.Ordinal);

        metrics.Released(partition);

        var text = exporter.Render();
        Assert.DoesNotContain("sink_partition_lag{", text, StringComparison.Ordinal);
        Assert.Contains("sink_partitions_assigned 0\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Lag_is_unknown_until_both_the_committed_offset_and_the_high_watermark_are()
    {
        using var exporter = new PrometheusExporter();
        using var metrics = new SinkMetrics();
        var partition = new TopicPartition("orders", 0);
        metrics.Claimed(partition, committed: null);
        metrics.Watermark(partition, 9);
        Assert.DoesNotContain("sink_partition_lag{", exporter.Render(), StringComparison.Ordinal);

        metrics.Committed(partition, 4);

        Assert.Contains("messaging_destination_partition_id=\"0\"} 5\n", exporter.Render(), StringComparison.Ordinal);
    }
}
