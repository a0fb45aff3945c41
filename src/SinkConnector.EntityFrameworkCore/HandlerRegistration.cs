using System.Text.Json;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>One topic's handler: how its messages are deserialized and handed to it.</summary>
internal sealed class HandlerRegistration<TContext>(
    string topic, string name, Func<IServiceProvider, MessageDeserializer> deserializer,
    Func<IServiceProvider, object> resolve,
    Func<object, object?, MessageContext, TContext, CancellationToken, Task> handle,
    Func<object, IReadOnlyList<object>, TContext, CancellationToken, Task>? preload,
    bool handlesTombstones)
    where TContext : DbContext
{
    public string Topic { get; } = topic;

    /// <summary>The handler's type name: dead letters name it as their source.</summary>
    public string Name { get; } = name;

    /// <summary>The value deserializer, made once per consumer from the app's services (the registry client).</summary>
    public MessageDeserializer CreateDeserializer(IServiceProvider services) => deserializer(services);

    /// <summary>Whether the handler gets tombstones (<see cref="ITombstoneHandler{TContext}"/>); otherwise they are skipped.</summary>
    public bool HandlesTombstones { get; } = handlesTombstones;

    /// <summary>Whether the handler loads per batch (<see cref="IPreloadingMessageHandler{TMessage, TContext}"/>).</summary>
    public bool Preloads => preload is not null;

    /// <summary>The handler instance from a batch attempt's scope (<see cref="HandlerInstances"/> keeps it for the attempt).</summary>
    public object Resolve(IServiceProvider scope) => resolve(scope);

    /// <summary>Hands a message to <paramref name="handler"/> (from <see cref="Resolve"/>); a null <paramref name="message"/> is a tombstone.</summary>
    public Task HandleAsync(object handler, object? message, MessageContext context, TContext db, CancellationToken cancellationToken) =>
        handle(handler, message, context, db, cancellationToken);

    public Task PreloadAsync(object handler, IReadOnlyList<object> messages, TContext db, CancellationToken cancellationToken) =>
        preload is null ? Task.CompletedTask : preload(handler, messages, db, cancellationToken);

    public static HandlerRegistration<TContext> Create<TMessage, THandler>(string topic, Func<IServiceProvider, MessageDeserializer> deserializer)
        where THandler : class, IMessageHandler<TMessage, TContext>
    {
        var preloads = typeof(IPreloadingMessageHandler<TMessage, TContext>).IsAssignableFrom(typeof(THandler));
        var tombstones = typeof(ITombstoneHandler<TContext>).IsAssignableFrom(typeof(THandler));
        return new(topic, typeof(THandler).Name, deserializer,
            static services => services.GetRequiredService<THandler>(),
            static (handler, message, context, db, cancellationToken) => message is null
                ? ((ITombstoneHandler<TContext>)handler).HandleTombstoneAsync(context, db, cancellationToken)
                : ((THandler)handler).HandleAsync((TMessage)message, context, db, cancellationToken),
            preloads
                ? static (handler, messages, db, cancellationToken) =>
                    ((IPreloadingMessageHandler<TMessage, TContext>)handler).PreloadAsync([.. messages.Cast<TMessage>()], db, cancellationToken)
                : null,
            tombstones);
    }

    /// <summary>System.Text.Json with <paramref name="json"/>: a JSON <c>null</c> is no message (skipped).</summary>
    public static Func<IServiceProvider, MessageDeserializer> Json<TMessage>(JsonSerializerOptions json) =>
        _ => (result, _) => new ValueTask<object?>(JsonSerializer.Deserialize<TMessage>(result.Message.Value, json));

    /// <summary>A Confluent deserializer (Schema Registry Avro, JSON Schema, ...), as a consumer would call it for the value.</summary>
    public static Func<IServiceProvider, MessageDeserializer> Confluent<TMessage>(Func<ISchemaRegistryClient, IAsyncDeserializer<TMessage>> create) =>
        services =>
        {
            var deserializer = create(services.GetRequiredService<ISchemaRegistryClient>());
            return async (result, _) => await deserializer.DeserializeAsync(result.Message.Value, isNull: false,
                new SerializationContext(MessageComponentType.Value, result.Topic, result.Message.Headers));
        };
}

/// <summary>Makes a message of a value that is not null; throws when the value is no such message.</summary>
/// <remarks>A <see cref="ValueTask{TResult}"/>: JSON deserializes synchronously, and this runs once per message.</remarks>
internal delegate ValueTask<object?> MessageDeserializer(ConsumeResult<byte[]?, byte[]?> result, CancellationToken cancellationToken);
