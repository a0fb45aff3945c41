using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.DeadLetters;
using SinkConnector.Engine;
using SinkConnector.Failures;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using SinkConnector.Schema;

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

    public BatchConverter(IEnumerable<MappingConfig> mappings)
    {
        foreach (var mapping in mappings)
        {
            // Mode upsert merges the last change per key, so its encoded writes keep the key values.
            var conversion = new TopicConversion(new MessageConverter(mapping), mapping.Mode == WriteMode.Upsert ? mapping.KeyIndexes() : []);
            foreach (var topic in mapping.Topics)
            {
                _byTopic[topic] = conversion;
            }
        }
    }

    public IEnumerable<string> Topics => _byTopic.Keys;

    /// <summary>
    /// Adds an accepted message of <paramref name="slice"/> to the batch; called by the loop, in consumption order, with
    /// the size it counts against the batch limits (<see cref="RowSize.EstimateBytes"/>).
    /// </summary>
    internal void Add(WriteBatch batch, PartitionSlice slice, ConsumeResult<byte[]?, byte[]?> message, int bytes)
    {
        batch.Unconverted.Add(new ConsumedMessage(slice, message));
        batch.UnconvertedBytes += bytes;
        if (batch.Unconverted.Count >= ChunkSize || batch.UnconvertedBytes >= ChunkBytes)
        {
            StartChunk(batch);
        }
    }

    /// <summary>
    /// In the write task: converts what is left and puts every chunk's rows and dead letters into their slices, in
    /// offset order (chunks are in consumption order, and a partition is consumed in offset order). A message that
    /// cannot convert becomes a dead letter, or stops the sink (<see cref="SinkStoppedException"/>) under
    /// <c>on_error: fail</c>; then nothing of the batch is written, so the stored offset stays before that message.
    /// </summary>
    internal async Task CompleteAsync(WriteBatch batch)
    {
        StartChunk(batch);
        foreach (var chunk in batch.Chunks)
        {
            foreach (var (slice, row, deadLetter, stop) in await chunk)
            {
                if (row is { } change)
                {
                    slice.Rows.Add(change);
                }
                else if (deadLetter is not null)
                {
                    slice.DeadLetters.Add(deadLetter);
                }
                else if (stop is not null && batch.Partitions.GetValueOrDefault(slice.Partition) == slice)
                {
                    // Only for a partition still in the batch: a revoked one is its next owner's to stop on.
                    throw new SinkStoppedException(stop);
                }
            }
        }

        batch.Chunks.Clear();
    }

    private void StartChunk(WriteBatch batch)
    {
        if (batch.Unconverted.Count == 0)
        {
            return;
        }

        var messages = batch.Unconverted.ToArray();
        var bytes = batch.UnconvertedBytes;
        batch.Unconverted.Clear();
        batch.UnconvertedBytes = 0;
        batch.Chunks.Add(Task.Run(() =>
        {
            var encoded = new EncodedChunk(messages.Length, bytes);
            return Array.ConvertAll(messages, m => Convert(m, encoded));
        }));
    }

    private ConvertedMessage Convert(ConsumedMessage consumed, EncodedChunk encoded)
    {
        var (slice, message) = consumed;
        var (converter, keys) = _byTopic[message.Topic];
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
                error = converter.TryEncode(message, encoded.Tuples, keyValues, keys);
                if (error is null)
                {
                    return new ConvertedMessage(slice, new RowChange(mapping, ChangeKind.Write, keyValues, null) { Encoded = encoded.Add(tuple, slice.Partition, message) }, null, null);
                }

                break;
            default:
                var values = new object?[mapping.Columns.Count];
                error = converter.TryConvertKey(message, values);
                if (error is null)
                {
                    return new ConvertedMessage(slice, new RowChange(mapping, ChangeKind.Delete, values, message), null, null);
                }

                break;
        }

        if (mapping.OnError == ErrorPolicy.Fail)
        {
            return new ConvertedMessage(slice, null, null,
                $"mapping '{mapping.Name}' ({mapping.File}) cannot convert {message.TopicPartitionOffset}: {error}. " +
                "on_error is 'fail', so the sink stops here without advancing past this message; fix the mapping or set on_error: dead_letter.");
        }

        return new ConvertedMessage(slice, null, DeadLetterBuilder.From(mapping, message, error.Kind.ToString(), error.Message), null);
    }
}

/// <summary>How a topic's messages become rows: its mapping's converter and upsert key columns.</summary>
internal sealed record TopicConversion(MessageConverter Converter, int[] Keys);

/// <summary>A message the loop accepted into a batch, waiting for its conversion chunk.</summary>
internal readonly record struct ConsumedMessage(PartitionSlice Slice, ConsumeResult<byte[]?, byte[]?> Message);

/// <summary>What a message became: a row change, a dead letter, the reason to stop (<c>on_error: fail</c>), or nothing (skipped).</summary>
internal readonly record struct ConvertedMessage(PartitionSlice Slice, RowChange? Row, DeadLetter? DeadLetter, string? Stop);
