using System.Runtime.ExceptionServices;
using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Consumer;
using SinkConnector.Postgres;

namespace SinkConnector.Mapping;

/// <summary>
/// Turns a batch's consumed messages into row changes and dead letters. It runs in the write task, not on the
/// polling thread: conversion is the largest share of a message's CPU, and this way one batch converts and commits
/// while the loop fetches the next (the benchmark's profile, tests/SinkConnector.Benchmarks).
/// </summary>
public sealed class BatchConverter
{
    private readonly Dictionary<string, MessageConverter> _byTopic = [];

    public BatchConverter(IEnumerable<MappingConfig> mappings)
    {
        foreach (var mapping in mappings)
        {
            var converter = new MessageConverter(mapping);
            foreach (var topic in mapping.Topics)
            {
                _byTopic[topic] = converter;
            }
        }
    }

    public IEnumerable<string> Topics => _byTopic.Keys;

    /// <summary>
    /// Converts every slice's <see cref="PartitionSlice.Consumed"/> messages, in offset order. A message that cannot
    /// convert becomes a dead letter, or stops the sink (<see cref="SinkStoppedException"/>) under <c>on_error: fail</c>;
    /// then nothing of the batch is written, so the stored offset stays before that message.
    /// </summary>
    public void Convert(WriteBatch batch)
    {
        // Partitions convert independently (a converter is stateless per call), so a batch spreads over the cores.
        try
        {
            Parallel.ForEach(batch.Partitions.Values, slice =>
            {
                foreach (var message in slice.Consumed)
                {
                    Convert(slice, message);
                }

                slice.Consumed.Clear();
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.OfType<SinkStoppedException>().FirstOrDefault() is { } stopped)
        {
            ExceptionDispatchInfo.Throw(stopped);
        }
    }

    private void Convert(PartitionSlice slice, ConsumeResult<byte[]?, byte[]?> message)
    {
        var converter = _byTopic[message.Topic];
        var mapping = converter.Mapping;
        var values = new object?[mapping.Columns.Count];
        var error = converter.TryConvertChange(message, values, out var change);
        if (error is null)
        {
            if (change != ChangeKind.Skip)
            {
                slice.Rows.Add(new RowChange(mapping, change, values, message));
            }

            return;
        }

        if (mapping.OnError == ErrorPolicy.Fail)
        {
            throw new SinkStoppedException(
                $"mapping '{mapping.Name}' ({mapping.File}) cannot convert {message.TopicPartitionOffset}: {error}. " +
                "on_error is 'fail', so the sink stops here without advancing past this message; fix the mapping or set on_error: dead_letter.");
        }

        slice.DeadLetters.Add(DeadLetters.From(mapping, message, error.Kind.ToString(), error.Message));
    }
}
