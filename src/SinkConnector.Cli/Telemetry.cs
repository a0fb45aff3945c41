using System.Collections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using SinkConnector.Observability;

namespace SinkConnector.Cli;

/// <summary>
/// The sink's metrics through the OpenTelemetry SDK: OTLP export configured the standard way (the
/// <c>OTEL_EXPORTER_OTLP_*</c> variables), and the Prometheus exporter behind <c>GET /metrics</c> when
/// <c>http.listen</c> is set.
/// </summary>
internal static class Telemetry
{
    /// <summary>Bucket bounds of <c>sink.batch.commit.duration</c> in seconds: from a quick single-row commit to a retried batch.</summary>
    private static readonly double[] s_commitDurationBounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    public static void AddMetrics(IHostApplicationBuilder builder, bool prometheus)
    {
        // The SDK reads its OTEL_* settings from the host's configuration; the sink's host reads no environment
        // otherwise, so only these variables go in (nothing else in the environment can reconfigure the host).
        builder.Configuration.AddInMemoryCollection(OtelVariables());
        builder.Services.AddSingleton<SinkMetrics>();
        var otlp = OtlpConfigured(builder.Configuration);
        if (!otlp && !prometheus)
        {
            // Nobody reads the metrics: no SDK to start, and the instruments stay disabled (no cost per batch).
            return;
        }

        builder.Services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(SinkMetrics.MeterName)
                .AddView("sink.batch.commit.duration", new ExplicitBucketHistogramConfiguration { Boundaries = s_commitDurationBounds });
            if (otlp)
            {
                metrics.AddOtlpExporter();
            }

            if (prometheus)
            {
                metrics.AddPrometheusExporter(ConfigurePrometheus);
            }
        });
    }

    /// <summary>
    /// The documented names, unchanged: no <c>otel_scope_*</c> labels, no <c>target_info</c> series, and every
    /// scrape collects afresh (a cached answer would show a released partition's lag for another 300 ms).
    /// </summary>
    internal static void ConfigurePrometheus(PrometheusAspNetCoreOptions options)
    {
        options.ScopeInfoEnabled = false;
        options.TargetInfoEnabled = false;
        options.ScrapeResponseCacheDurationMilliseconds = 0;
    }

    /// <summary>Without an endpoint the OTLP exporter would send to localhost:4317: export only when one is set.</summary>
    private static bool OtlpConfigured(IConfiguration configuration) =>
        !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
        || !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]);

    private static IEnumerable<KeyValuePair<string, string?>> OtelVariables() =>
        Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .Where(e => e.Key is string name && name.StartsWith("OTEL_", StringComparison.Ordinal))
            .Select(e => new KeyValuePair<string, string?>((string)e.Key, e.Value as string));
}
