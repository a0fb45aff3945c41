namespace SinkConnector.UnitTests.Observability;

/// <summary>
/// Tests that create a <see cref="SinkConnector.Observability.SinkMetrics"/>: the OpenTelemetry exporter of one
/// collects every meter of that name in the process, so they must not run beside each other.
/// </summary>
public static class SinkMetricsMeter
{
    public const string Name = "SinkMetrics meter";
}
