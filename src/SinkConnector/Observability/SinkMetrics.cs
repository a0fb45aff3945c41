using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Confluent.Kafka;

namespace SinkConnector.Observability;

/// <summary>
/// The sink's instruments (System.Diagnostics.Metrics), exported through the OpenTelemetry SDK (OTLP, Prometheus). Names and
/// attributes follow OpenTelemetry conventions: dotted lowercase names, UCUM units, <c>messaging.*</c> attributes
/// for topic and partition. Recording is thread-safe; the lag gauges read a snapshot the consumer loop refreshes.
/// </summary>
public sealed class SinkMetrics : IDisposable
{
    public const string MeterName = "SinkConnector";

    private const string TopicAttribute = "messaging.destination.name";
    private const string PartitionAttribute = "messaging.destination.partition.id";
    private const string MappingAttribute = "sink.mapping";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _consumed;
    private readonly Counter<long> _rows;
    private readonly Counter<long> _deadLetters;
    private readonly Counter<long> _batches;
    private readonly Counter<long> _skipped;
    private readonly Histogram<double> _commitDuration;
    private readonly Counter<long> _fenced;
    private readonly Counter<long> _rebalances;
    private readonly Counter<long> _retries;
    private readonly ConcurrentDictionary<TopicPartition, PartitionProgress> _partitions = new();

    public SinkMetrics()
    {
        _consumed = _meter.CreateCounter<long>("sink.messages.consumed", "{message}", "Messages consumed from Kafka and accepted into a batch");
        _rows = _meter.CreateCounter<long>("sink.rows.written", "{row}", "Rows inserted, upserted or deleted (after upsert de-duplication)");
        _deadLetters = _meter.CreateCounter<long>("sink.dead_letters", "{message}", "Messages written to the dead-letter table");
        _skipped = _meter.CreateCounter<long>("sink.messages.skipped", "{message}", "Messages no mapping of their topic took (when: did not hold, or skip_when: did); their offsets advance");
        _batches = _meter.CreateCounter<long>("sink.batches", "{batch}", "Batch transactions committed");
        _commitDuration = _meter.CreateHistogram<double>("sink.batch.commit.duration", "s", "Time from starting a batch write to its commit, retries included");
        _fenced = _meter.CreateCounter<long>("sink.fenced", "{partition}", "Partition commits refused because a newer claim exists");
        _rebalances = _meter.CreateCounter<long>("sink.rebalances", "{rebalance}", "Partition assignment changes, by kind (assigned, revoked, lost)");
        _retries = _meter.CreateCounter<long>("sink.retries", "{retry}", "Database operations retried after a transient failure");
        _meter.CreateObservableGauge("sink.partition.lag", ObserveLag, "{message}", "High watermark minus the next offset stored in Postgres, per assigned partition");
        _meter.CreateObservableGauge("sink.partitions.assigned", () => _partitions.Count, "{partition}", "Partitions this process owns");
    }

    public void Consumed(string topic, long messages) => _consumed.Add(messages, new KeyValuePair<string, object?>(TopicAttribute, topic));

    /// <param name="reason"><c>when</c> or <c>skip_when</c>: which condition left the message out.</param>
    public void Skipped(string topic, string reason) =>
        _skipped.Add(1, new KeyValuePair<string, object?>(TopicAttribute, topic), new KeyValuePair<string, object?>("sink.skip.reason", reason));

    public void RowsWritten(long rows) => _rows.Add(rows);

    public void DeadLettered(string mapping, string kind) =>
        _deadLetters.Add(1, new KeyValuePair<string, object?>(MappingAttribute, mapping), new KeyValuePair<string, object?>("error.type", kind));

    public void BatchCommitted(TimeSpan elapsed)
    {
        _batches.Add(1);
        _commitDuration.Record(elapsed.TotalSeconds);
    }

    public void Fenced(TopicPartition partition) => _fenced.Add(1, Tags(partition));

    public void Rebalanced(string kind) => _rebalances.Add(1, new KeyValuePair<string, object?>("sink.rebalance.kind", kind));

    public void Retried(string operation) => _retries.Add(1, new KeyValuePair<string, object?>("sink.operation", operation));

    /// <summary>The partition is owned; <paramref name="committed"/> is the next offset Postgres holds (null: none yet).</summary>
    public void Claimed(TopicPartition partition, long? committed) =>
        _partitions[partition] = new PartitionProgress(committed, _partitions.TryGetValue(partition, out var old) ? old.HighWatermark : null);

    public void Committed(TopicPartition partition, long nextOffset)
    {
        if (_partitions.TryGetValue(partition, out var progress))
        {
            _partitions[partition] = progress with { Committed = nextOffset };
        }
    }

    public void Watermark(TopicPartition partition, long high)
    {
        if (_partitions.TryGetValue(partition, out var progress))
        {
            _partitions[partition] = progress with { HighWatermark = high };
        }
    }

    public void Released(TopicPartition partition) => _partitions.TryRemove(partition, out _);

    /// <summary>Total lag over the owned partitions whose high watermark is known, for the progress log line.</summary>
    public long TotalLag() => _partitions.Values.Sum(p => p.Lag ?? 0);

    private IEnumerable<Measurement<long>> ObserveLag() =>
        _partitions.Where(p => p.Value.Lag is not null).Select(p => new Measurement<long>(p.Value.Lag!.Value, Tags(p.Key)));

    private static KeyValuePair<string, object?>[] Tags(TopicPartition partition) =>
        [new(TopicAttribute, partition.Topic), new(PartitionAttribute, partition.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    public void Dispose() => _meter.Dispose();

    /// <summary>Committed may be null before the first commit of a never-consumed partition: the lag is then unknown.</summary>
    private sealed record PartitionProgress(long? Committed, long? HighWatermark)
    {
        public long? Lag => HighWatermark is { } high && Committed is { } committed ? Math.Max(0, high - committed) : null;
    }
}
