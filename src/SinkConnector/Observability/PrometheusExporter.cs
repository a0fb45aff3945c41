using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace SinkConnector.Observability;

/// <summary>
/// Collects the sink's instruments with a <see cref="MeterListener"/> and renders them in the Prometheus text format
/// (version 0.0.4) for <c>GET /metrics</c>: OpenTelemetry names with dots as underscores, counters with
/// <c>_total</c>, the unit as a suffix (<c>_seconds</c>), histograms as cumulative buckets.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] s_bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<Instrument, Dictionary<string, Series>> _series = [];

    public PrometheusExporter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SinkMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public string Render()
    {
        lock (_lock)
        {
            // Gauges report what is true now: a partition no longer owned must disappear, not keep its last value.
            foreach (var (instrument, series) in _series)
            {
                if (IsGauge(instrument))
                {
                    series.Clear();
                }
            }
        }

        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        lock (_lock)
        {
            foreach (var (instrument, series) in _series.OrderBy(s => s.Key.Name, StringComparer.Ordinal))
            {
                var name = MetricName(instrument);
                var type = instrument switch
                {
                    Histogram<double> => "histogram",
                    _ when IsGauge(instrument) => "gauge",
                    _ => "counter",
                };
                text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {instrument.Description}\n# TYPE {name} {type}\n");
                foreach (var (labels, value) in series.OrderBy(s => s.Key, StringComparer.Ordinal))
                {
                    value.Write(text, name, labels);
                }
            }
        }

        return text.ToString();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = Labels(tags);
        lock (_lock)
        {
            if (!_series.TryGetValue(instrument, out var series))
            {
                _series[instrument] = series = [];
            }

            if (!series.TryGetValue(labels, out var current))
            {
                series[labels] = current = instrument is Histogram<double> ? new HistogramSeries() : new ValueSeries();
            }

            current.Add(value, replace: IsGauge(instrument));
        }
    }

    private static bool IsGauge(Instrument instrument) =>
        instrument is ObservableGauge<long> or ObservableGauge<int> or ObservableGauge<double> or Gauge<long> or Gauge<double>;

    /// <summary><c>sink.batch.commit.duration</c> in s is <c>sink_batch_commit_duration_seconds</c>; counters end in <c>_total</c>.</summary>
    public static string MetricName(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        var name = Sanitize(instrument.Name);
        if (instrument.Unit == "s")
        {
            name += "_seconds";
        }

        return instrument is Counter<long> or Counter<double> or ObservableCounter<long> ? name + "_total" : name;
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return "";
        }

        var pairs = new List<string>(tags.Length);
        foreach (var tag in tags)
        {
            var value = Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? "";
            pairs.Add($"{Sanitize(tag.Key)}=\"{value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}\"");
        }

        pairs.Sort(StringComparer.Ordinal);
        return string.Join(",", pairs);
    }

    private static string Sanitize(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(chars[i]) || chars[i] == '_'))
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Braces(string labels) => labels.Length == 0 ? "" : "{" + labels + "}";

    public void Dispose() => _listener.Dispose();

    private abstract class Series
    {
        public abstract void Add(double value, bool replace);

        public abstract void Write(StringBuilder text, string name, string labels);
    }

    private sealed class ValueSeries : Series
    {
        private double _value;

        public override void Add(double value, bool replace) => _value = replace ? value : _value + value;

        public override void Write(StringBuilder text, string name, string labels) =>
            text.Append(CultureInfo.InvariantCulture, $"{name}{Braces(labels)} {Number(_value)}\n");
    }

    private sealed class HistogramSeries : Series
    {
        private readonly long[] _buckets = new long[s_bounds.Length];
        private long _count;
        private double _sum;

        public override void Add(double value, bool replace)
        {
            _count++;
            _sum += value;
            for (var i = 0; i < s_bounds.Length; i++)
            {
                if (value <= s_bounds[i])
                {
                    _buckets[i]++;
                }
            }
        }

        public override void Write(StringBuilder text, string name, string labels)
        {
            var prefix = labels.Length == 0 ? "" : labels + ",";
            for (var i = 0; i < s_bounds.Length; i++)
            {
                text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{prefix}le=\"{Number(s_bounds[i])}\"}} {_buckets[i]}\n");
            }

            text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{prefix}le=\"+Inf\"}} {_count}\n");
            text.Append(CultureInfo.InvariantCulture, $"{name}_sum{Braces(labels)} {Number(_sum)}\n");
            text.Append(CultureInfo.InvariantCulture, $"{name}_count{Braces(labels)} {_count}\n");
        }
    }
}
