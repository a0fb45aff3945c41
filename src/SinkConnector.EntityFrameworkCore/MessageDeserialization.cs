using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using SinkConnector.Configuration;
using SinkConnector.DeadLetters;
using SinkConnector.Engine;
using SinkConnector.Failures;
using SinkConnector.Schema;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>
/// Deserializes a chunk of a batch's messages for their handlers on the thread pool, while the batch still fills
/// (<see cref="HandlerBatch"/>): batches write one at a time, so deserializing at the start of a write made the next
/// commit wait for it. A value that is not a message becomes a dead letter of its slice. A schema registry that does
/// not answer fails the chunk with <see cref="SchemaRegistryUnavailableException"/>: it is deserialized again when
/// the engine prepares the batch again.
/// </summary>
internal sealed class MessageDeserialization<TContext>(
    IReadOnlyDictionary<string, HandlerRegistration<TContext>> handlers,
    IReadOnlyDictionary<string, MessageDeserializer> deserializers,
    DeadLetterSettings deadLetters)
    where TContext : DbContext
{
    // Confluent's registry deserializers and System.Text.Json may be called from several threads at once: chunks
    // of one batch may deserialize at the same time.
    public Task<DeserializedChunk<TContext>> Start(ReceivedMessage[] messages) => Task.Run(() => DeserializeAsync(messages));

    private async Task<DeserializedChunk<TContext>> DeserializeAsync(ReceivedMessage[] messages)
    {
        var handled = new List<HandledMessage<TContext>>(messages.Length);
        List<(PartitionSlice Slice, DeadLetter DeadLetter)>? failed = null;
        foreach (var (slice, result) in messages)
        {
            var handler = handlers[result.Topic];
            if (result.Message.Value is null)
            {
                if (handler.HandlesTombstones)
                {
                    handled.Add(new HandledMessage<TContext>(slice, result, handler, null));
                }

                continue; // Otherwise nothing to handle; its offset advances with the batch.
            }

            try
            {
                if (await deserializers[result.Topic](result, CancellationToken.None) is { } message)
                {
                    handled.Add(new HandledMessage<TContext>(slice, result, handler, message));
                }
            }
            catch (Exception e) when (e is not (OutOfMemoryException or SchemaRegistryUnavailableException))
            {
                var kind = DeserializationFailures.Classify(e, result.Topic);
                (failed ??= []).Add((slice, DeadLetterBuilder.From(handler.Name, deadLetters, result, kind, ExceptionMessages.Chain(e, ": "))));
            }
        }

        return new DeserializedChunk<TContext>(handled, failed ?? []);
    }
}

/// <summary>An accepted message and the slice of the batch it was consumed under.</summary>
internal readonly record struct ReceivedMessage(PartitionSlice Slice, ConsumeResult<byte[]?, byte[]?> Result);

/// <summary>A chunk's messages ready for their handlers, in consumption order, and the dead letters of those that were not messages.</summary>
internal sealed record DeserializedChunk<TContext>(List<HandledMessage<TContext>> Messages, List<(PartitionSlice Slice, DeadLetter DeadLetter)> DeadLetters)
    where TContext : DbContext;
