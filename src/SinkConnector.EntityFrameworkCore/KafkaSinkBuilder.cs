using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>Registers the handlers of a Kafka sink (<see cref="KafkaSinkServiceCollectionExtensions.AddKafkaSink{TContext}"/>).</summary>
public sealed class KafkaSinkBuilder<TContext>
    where TContext : DbContext
{
    private readonly IServiceCollection _services;
    private readonly List<HandlerRegistration<TContext>> _handlers;

    internal KafkaSinkBuilder(IServiceCollection services, List<HandlerRegistration<TContext>> handlers)
    {
        _services = services;
        _handlers = handlers;
    }

    /// <summary>How message values are deserialized; <see cref="JsonSerializerDefaults.Web"/> (camelCase, case-insensitive) by default.</summary>
    public JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Sends every message of <paramref name="topic"/> to <typeparamref name="THandler"/> (resolved from a scope per
    /// batch), its value deserialized as <typeparamref name="TMessage"/> with <see cref="Json"/>. One handler per topic.
    /// </summary>
    public KafkaSinkBuilder<TContext> AddHandler<TMessage, THandler>(string topic)
        where THandler : class, IMessageHandler<TMessage, TContext>
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        if (_handlers.Any(h => h.Topic == topic))
        {
            throw new InvalidOperationException($"topic '{topic}' already has a handler ({_handlers.First(h => h.Topic == topic).Name}): one handler per topic");
        }

        _services.TryAddScoped<THandler>();
        _handlers.Add(HandlerRegistration<TContext>.Create<TMessage, THandler>(topic, Json));
        return this;
    }
}
