using SinkConnector.Configuration;
using SinkConnector.DeadLetters;
using SinkConnector.Mapping;
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

    private readonly Dictionary<string, TopicConversion> _byTopic = [];

    /// <param name="schemas">The schema registry, for mappings whose keys or values are registry-encoded.</param>
    public BatchConverter(IEnumerable<MappingConfig> mappings, SchemaSource? schemas = null)
    {
        foreach (var mapping in mappings)
        {
            // Mode upsert merges the changes of each key, so its encoded writes keep the key values (and the newer_by
            // value, which decides between changes of one key).
            var conversion = new TopicConversion(new MessageConverter(mapping, schemas), mapping.Mode == WriteMode.Upsert ? UpsertValueColumns(mapping) : []);
            foreach (var topic in mapping.Topics)
            {
                _byTopic[topic] = conversion;
            }
        }
    }

    public IEnumerable<string> Topics => _byTopic.Keys;

    private static int[] UpsertValueColumns(MappingConfig mapping)
    {
        var newerBy = UpsertRules.Of(mapping).NewerBy;
        return newerBy < 0 ? mapping.KeyIndexes() : [.. mapping.KeyIndexes(), newerBy];
    }

    /// <summary>A new batch's content: its messages, converted a chunk at a time.</summary>
    public ConvertedBatch NewBatch() => new(this);

    /// <summary>Whether the messages waiting in <paramref name="batch"/> fill a chunk.</summary>
    internal static bool FillsChunk(int messages, int bytes) => messages >= ChunkSize || bytes >= ChunkBytes;

    /// <summary>Converts a chunk of messages on the thread pool.</summary>
    internal Task<ConvertedMessage[]> StartChunk(ConsumedMessage[] messages, int bytes) => Task.Run(() =>
    {
        var encoded = new EncodedChunk(messages.Length, bytes);
        return Array.ConvertAll(messages, m => Convert(m, encoded));
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

    private ConvertedMessage Convert(ConsumedMessage consumed, EncodedChunk encoded)
    {
        var (slice, original) = consumed;
        var (converter, keys) = _byTopic[original.Topic];
        var mapping = converter.Mapping;
        // Rows convert from the decoded message (registry encodings); dead letters keep the message as consumed.
        var error = converter.TryDecode(original, out var message);
        if (error is null)
        {
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
        }

        if (mapping.OnError == ErrorPolicy.Fail)
        {
            return new ConvertedMessage(slice, null, null,
                $"mapping '{mapping.Name}' ({mapping.File}) cannot convert {original.TopicPartitionOffset}: {error}. " +
                "on_error is 'fail', so the sink stops here without advancing past this message; fix the mapping or set on_error: dead_letter.");
        }

        return new ConvertedMessage(slice, null, DeadLetterBuilder.From(mapping, original, error.Kind.ToString(), error.Message), null);
    }
}
