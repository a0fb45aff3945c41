using OpenTelemetry;
using OpenTelemetry.Metrics;
using SinkConnector.Observability;

namespace SinkConnector.Cli;

/// <summary>OTLP export of the sink's metrics, configured the standard way: the <c>OTEL_EXPORTER_OTLP_*</c> variables.</summary>
internal static class Telemetry
{
    /// <summary>Null unless <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or its metrics-specific form) is set.</summary>
    public static MeterProvider? StartOtlpExport()
    {
        var configured = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"));
        return configured
            ? Sdk.CreateMeterProviderBuilder().AddMeter(SinkMetrics.MeterName).AddOtlpExporter().Build()
            : null;
    }
}
