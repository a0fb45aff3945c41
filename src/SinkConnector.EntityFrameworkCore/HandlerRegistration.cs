using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>One topic's handler: how its messages are deserialized and handed to it.</summary>
internal sealed class HandlerRegistration<TContext>(
    string topic, string name, Func<byte[], object?> deserialize,
    Func<IServiceProvider, object, MessageContext, TContext, CancellationToken, Task> handle)
    where TContext : DbContext
{
    public string Topic { get; } = topic;

    /// <summary>The handler's type name: dead letters name it as their source.</summary>
    public string Name { get; } = name;

    /// <summary>The message, or null for a JSON <c>null</c>; throws <see cref="JsonException"/> on anything not a message.</summary>
    public object? Deserialize(byte[] value) => deserialize(value);

    public Task HandleAsync(IServiceProvider services, object message, MessageContext context, TContext db, CancellationToken cancellationToken) =>
        handle(services, message, context, db, cancellationToken);

    public static HandlerRegistration<TContext> Create<TMessage, THandler>(string topic, JsonSerializerOptions json)
        where THandler : class, IMessageHandler<TMessage, TContext> =>
        new(topic, typeof(THandler).Name,
            value => JsonSerializer.Deserialize<TMessage>(value, json),
            (services, message, context, db, cancellationToken) =>
                services.GetRequiredService<THandler>().HandleAsync((TMessage)message, context, db, cancellationToken));
}
