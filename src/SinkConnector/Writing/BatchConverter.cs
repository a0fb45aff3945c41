using System.Collections.Concurrent;
using SinkConnector.Configuration;
using Confluent.Kafka;
using SinkConnector.DeadLetters;
using SinkConnector.Engine;
using SinkConnector.Mapping;
using SinkConnector.Mapping.Routing;
using SinkConnector.Observability;
using SinkConnector.PgBinary;
using SinkConnector.Registry;

namespace SinkConnector.Writing;

/// <summary>
/// Turns a batch's consumed messages into row changes and dead letters, off the polling thread: conversion is the
/// largest share of a message's CPU. It starts on the thread pool a chunk at a time while the batch fills, so by the
/// time the batch is due (and the previous one commits) most of it is converted; the write task only finishes the
/// last chunk (the benchmark's profile, tests/SinkConnector.Benchmarks).
/// </summary>
public sealed class BatchConverter
{
    /// <summary>Messages per conversion task: big enough to amortise scheduling, small enough to keep both cores busy.</summary>
    private const int ChunkSize = 512;

    /// <summary>Message bytes (<see cref="RowSize"/>) per task: its buffer (twice this, see <see cref="EncodedChunk"/>) stays below the large object heap's 85,000 bytes.</summary>
    private const int ChunkBytes = 32 * 1024;

    // Per listed topic, its mappings in write order (see WriteOrder): a message goes to each whose conditions take it.
    private readonly Dictionary<string, TopicConversion[]> _byTopic = [];

    // Topics only a topics_regex mapping reads, resolved when their first message is converted. Conversion runs on
    // the thread pool: Lazy makes each topic's mappings (and converters) one instance, built once.
    private readonly ConcurrentDictionary<string, Lazy<TopicConversion[]>> _byMatchedTopic = new(StringComparer.Ordinal);
    private readonly List<MappingConfig> _ordered;
    private readonly List<SchemaColumnsEvolution> _evolutions = [];
    private readonly SchemaSource? _schemas;

    // Enough for the chunks of about three batches of 10,000 messages (the open one, and two writes in flight).
    private readonly ChunkBuffers _buffers = new(kept: 256);

    /// <param name="schemas">The schema registry, for mappings whose keys or values are registry-encoded.</param>
    /// <param name="metrics">Counts the messages no mapping took (<c>sink.messages.skipped</c>).</param>
    public BatchConverter(IEnumerable<MappingConfig> mappings, SchemaSource? schemas = null, SinkMetrics? metrics = null)
    {
        Metrics = metrics;
        _schemas = schemas;
        _ordered = [.. WriteOrder.Sort(mappings)];
        // A listed mapping has one converter for all its topics; a regex mapping one per topic (its table may differ).
        var listed = new Dictionary<MappingConfig, TopicConversion>(ReferenceEqualityComparer.Instance);
        foreach (var mapping in _ordered.Where(m => m.TopicsRegex is null))
        {
            listed[mapping] = Build(mapping, _evolutions);
        }

        foreach (var topic in _ordered.SelectMany(m => m.Topics).Distinct(StringComparer.Ordinal))
        {
            _byTopic[topic] = [.. _ordered.Select(m => m.TopicsRegex is null
                ? m.Topics.Contains(topic) ? listed[m] : null
                : m.ForTopic(topic) is { } concrete ? Build(concrete, null) : null).OfType<TopicConversion>()];
        }

        Subscriptions = [.. _byTopic.Keys, .. _ordered.Select(m => m.TopicsRegex?.Subscription).OfType<string>().Distinct(StringComparer.Ordinal)];
        // Two topics_regex mappings may both match a topic that is not listed: its conversions are known only when it is seen.
        SlicesMixMappings = _evolutions.Count > 0 || _byTopic.Values.Any(c => c.Length > 1) || _ordered.Count(m => m.TopicsRegex is not null) > 1;
    }

    /// <summary>
    /// Whether one partition's rows in a batch may belong to several mappings (a topic read by more than one) or several
    /// versions of one (columns from the schema that grow mid-batch). Known from the configuration, so the common case
    /// of one mapping per topic never looks at every row to find out (<see cref="MappingRuns"/>).
    /// </summary>
    internal bool SlicesMixMappings { get; }

    private TopicConversion Build(MappingConfig mapping, List<SchemaColumnsEvolution>? evolutions)
    {
        // Mode upsert merges the changes of each key, so its encoded writes keep the key values (and the newer_by
        // value, which decides between changes of one key); a partitioned mapping keeps its partition column's
        // value too, for the dead letter of a row no partition accepts.
        int[] kept = mapping.Mode == WriteMode.Upsert ? UpsertValueColumns(mapping) : [];
        if (mapping.Partition is { } partition && mapping.Columns.ToList().FindIndex(c => c.Name == partition.By) is var by && !kept.Contains(by))
        {
            kept = [.. kept, by];
        }

        var conversion = new TopicConversion(new MessageConverter(mapping, _schemas), kept);
        // Columns from the schema are refused for topics_regex mappings (their evolutions would be per topic).
        if (evolutions is not null && mapping.SchemaColumns is not null && _schemas is not null)
        {
            var evolution = new SchemaColumnsEvolution(conversion, _schemas);
            evolutions.Add(evolution);
            conversion = evolution.Current;
        }

        return conversion;
    }

    /// <summary>Each mapping that reads <paramref name="topic"/>, in write order, as it applies to that topic.</summary>
    private TopicConversion[] ConversionsOf(string topic) =>
        _byTopic.TryGetValue(topic, out var conversions)
            ? conversions
            : _byMatchedTopic.GetOrAdd(topic, t => new Lazy<TopicConversion[]>(() =>
                [.. _ordered.Where(m => m.TopicsRegex is not null).Select(m => m.ForTopic(t)).OfType<MappingConfig>().Select(m => Build(m, null))])).Value;

    internal SinkMetrics? Metrics { get; }

    /// <summary>What the consumer subscribes to: the listed topics, and <c>^(...)$</c> for each topics_regex.</summary>
    public IReadOnlyList<string> Subscriptions { get; }

    /// <summary>The mappings whose columns come from the schema, which may gain columns as producers register schemas.</summary>
    internal IReadOnlyList<SchemaColumnsEvolution> Evolutions => _evolutions;

    private static int[] UpsertValueColumns(MappingConfig mapping)
    {
        var newerBy = UpsertRules.Of(mapping).NewerBy;
        return newerBy < 0 ? mapping.KeyIndexes() : [.. mapping.KeyIndexes(), newerBy];
    }

    /// <summary>A new batch's content: its messages, converted a chunk at a time.</summary>
    public ConvertedBatch NewBatch() => new(this);

    /// <summary>Whether the messages waiting in <paramref name="batch"/> fill a chunk.</summary>
    internal static bool FillsChunk(int messages, int bytes) => messages >= ChunkSize || bytes >= ChunkBytes;

    /// <summary>
    /// Converts a chunk of messages on the thread pool (one outcome per mapping that takes a message, or one skip),
    /// after fetching the schemas of registry ids it has not seen (awaited, so no pool thread blocks on the registry;
    /// a registry that does not answer fails the chunk with the transient
    /// <see cref="Failures.SchemaRegistryUnavailableException"/>, as conversion itself would).
    /// Once every message converted, <paramref name="messages"/> is cleared: the outcomes keep what a row or dead letter
    /// needs (<see cref="EncodedChunk"/> copies key and value), and the chunk's array would otherwise hold every
    /// message's <c>ConsumeResult</c> (8 objects, ~530 bytes) until the batch commits, so the garbage collector would
    /// promote and copy them instead of dropping them young. A conversion that fails leaves it whole for its restart.
    /// </summary>
    internal Task<ConvertedChunk> StartChunk(ConsumedMessage[] messages, int bytes) => Task.Run(async () =>
    {
        // The registry client's request timeout bounds the fetch; an abandoned batch just drops this task.
        await FetchSchemasAsync(messages, CancellationToken.None).ConfigureAwait(false);
        var encoded = new EncodedChunk(messages.Length, bytes, _buffers);
        var outcomes = new List<ConvertedMessage>(messages.Length);
        foreach (var message in messages)
        {
            Convert(message, encoded, outcomes);
        }

        Array.Clear(messages);
        return new ConvertedChunk(outcomes, encoded);
    });

    // Placeholders are rare: each conversion thread marks kept columns in one array and copies it only when one was.
    [ThreadStatic]
    private static bool[]? s_kept;

    private static bool[] KeptScratch(int columns)
    {
        if (s_kept is null || s_kept.Length != columns)
        {
            s_kept = new bool[columns];
        }

        Array.Clear(s_kept);
        return s_kept;
    }

    private static bool[]? TakeKept(bool[]? scratch) => RowChange.AnyKept(scratch) is { } kept ? (bool[])kept.Clone() : null;

    private async Task FetchSchemasAsync(ConsumedMessage[] messages, CancellationToken cancellationToken)
    {
        if (_schemas is null)
        {
            return;
        }

        var ids = new HashSet<int>();
        foreach (var (_, message) in messages)
        {
            foreach (var conversion in ConversionsOf(message.Topic))
            {
                conversion.Converter.AddSchemaIds(message, ids);
            }
        }

        if (ids.Count > 0)
        {
            await _schemas.FetchAsync(ids, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Convert(ConsumedMessage consumed, EncodedChunk encoded, List<ConvertedMessage> outcomes)
    {
        var (slice, original) = consumed;
        var conversions = ConversionsOf(original.Topic);
        if (conversions.Length == 1 && !conversions[0].Converter.Filters)
        {
            outcomes.Add(Convert(conversions[0], slice, original, encoded));
            return;
        }

        var left = FilterVerdict.NotWhen;
        var taken = false;
        foreach (var conversion in conversions)
        {
            if (!conversion.Converter.Filters)
            {
                taken = true;
                outcomes.Add(Convert(conversion, slice, original, encoded));
                continue;
            }

            var version = Version(conversion, original, out var incompatible);
            var converter = version.Converter;
            // Rows convert from the decoded message (registry encodings); dead letters keep the message as consumed.
            // A message that does not decode is still filtered: a when: on a header need not read the value.
            var message = original;
            var undecodable = incompatible ?? converter.TryDecode(original, out message);
            var error = converter.TryFilter(original, undecodable is null ? message : original, out var verdict);
            if (error is null && verdict != FilterVerdict.Take)
            {
                left = verdict == FilterVerdict.SkipWhen ? verdict : left;
                continue;
            }

            taken = true;
            outcomes.Add(error is null && undecodable is null
                ? Convert(version, slice, original, message, encoded)
                : Failed(converter.Mapping, slice, original, undecodable ?? error!));
        }

        if (!taken)
        {
            outcomes.Add(new ConvertedMessage(slice, null, null, null) { Skipped = left });
        }
    }

    /// <summary>
    /// The version of the mapping that knows the message's writer schema: a mapping whose columns come from the schema
    /// may grow columns here; <paramref name="incompatible"/> says why a schema the table cannot take is refused.
    /// </summary>
    private static TopicConversion Version(TopicConversion conversion, ConsumeResult<byte[]?, byte[]?> original, out ConversionError? incompatible)
    {
        incompatible = null;
        return conversion.Evolution is { } evolution ? evolution.For(original, out incompatible) : conversion;
    }

    /// <summary>A mapping that takes every message: Avro straight into the tuple where it can, else decoded and converted.</summary>
    private static ConvertedMessage Convert(TopicConversion conversion, PartitionSlice slice, ConsumeResult<byte[]?, byte[]?> original, EncodedChunk encoded)
    {
        conversion = Version(conversion, original, out var incompatible);
        var (converter, keys, _) = conversion;
        var mapping = converter.Mapping;
        var directKeys = keys.Length == 0 ? [] : new object?[mapping.Columns.Count];
        var directTuple = encoded.Tuples.Length;
        if (incompatible is null && converter.TryEncodeDirect(original, encoded.Tuples, directKeys, keys))
        {
            return new ConvertedMessage(slice, new RowChange(mapping, ChangeKind.Write, directKeys, null) { Encoded = encoded.Add(directTuple, slice.Partition, original) }, null, null);
        }

        // Rows convert from the decoded message (registry encodings); dead letters keep the message as consumed.
        var message = original;
        var error = incompatible ?? converter.TryDecode(original, out message);
        return error is null ? Convert(conversion, slice, original, message, encoded) : Failed(mapping, slice, original, error);
    }

    private static ConvertedMessage Convert(
        TopicConversion conversion, PartitionSlice slice, ConsumeResult<byte[]?, byte[]?> original, ConsumeResult<byte[]?, byte[]?> message, EncodedChunk encoded)
    {
        var (converter, keys, _) = conversion;
        var mapping = converter.Mapping;
        ConversionError? error;
        switch (converter.Decide(message))
        {
            case ChangeKind.Skip:
                return new ConvertedMessage(slice, null, null, null);
            case ChangeKind.Write:
                // A binary COPY tuple from here to the commit, written by the converter; for an upsert also its key values.
                var keyValues = keys.Length == 0 ? [] : new object?[mapping.Columns.Count];
                var tuple = encoded.Tuples.Length;
                var kept = converter.DetectsUnavailable ? KeptScratch(mapping.Columns.Count) : null;
                error = converter.TryEncode(message, encoded.Tuples, keyValues, keys, kept);
                if (error is null)
                {
                    return new ConvertedMessage(slice, new RowChange(mapping, ChangeKind.Write, keyValues, null)
                    {
                        Encoded = encoded.Add(tuple, slice.Partition, original),
                        Kept = TakeKept(kept),
                    }, null, null);
                }

                break;
            default:
                var values = new object?[mapping.Columns.Count];
                error = converter.TryConvertKey(message, values);
                if (error is null)
                {
                    return new ConvertedMessage(slice, new RowChange(mapping, ChangeKind.Delete, values, original), null, null);
                }

                break;
        }

        return Failed(mapping, slice, original, error);
    }

    /// <summary>The message's error in one mapping: a dead letter naming that mapping, or the stop of on_error: fail.</summary>
    private static ConvertedMessage Failed(MappingConfig mapping, PartitionSlice slice, ConsumeResult<byte[]?, byte[]?> original, ConversionError error)
    {
        if (mapping.OnError == ErrorPolicy.Fail)
        {
            return new ConvertedMessage(slice, null, null,
                $"mapping '{mapping.Name}' ({mapping.File}) cannot convert {original.TopicPartitionOffset}: {error}. " +
                "on_error is 'fail', so the sink stops here without advancing past this message; fix the mapping or set on_error: dead_letter.");
        }

        return new ConvertedMessage(slice, null, DeadLetterBuilder.From(mapping, original, error.Kind.ToString(), error.Message), null);
    }
}
