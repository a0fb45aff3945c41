using System.Text.Json;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SinkConnector.Registry;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>Registers the handlers of a Kafka sink (<see cref="KafkaSinkServiceCollectionExtensions.AddKafkaSink{TContext}"/>).</summary>
public sealed class KafkaSinkBuilder<TContext>
    where TContext : DbContext
{
    private readonly IServiceCollection _services;
    private readonly List<HandlerRegistration<TContext>> _handlers;

    private readonly string _section;

    internal KafkaSinkBuilder(IServiceCollection services, List<HandlerRegistration<TContext>> handlers, string section)
    {
        _services = services;
        _section = section;
        _handlers = handlers;
    }

    /// <summary>How message values are deserialized; <see cref="JsonSerializerDefaults.Web"/> (camelCase, case-insensitive) by default.</summary>
    public JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Sends every message of <paramref name="topic"/> to <typeparamref name="THandler"/> (resolved from a scope per
    /// batch), its value deserialized as <typeparamref name="TMessage"/> with <see cref="Json"/>. One handler per topic.
    /// </summary>
    public KafkaSinkBuilder<TContext> AddHandler<TMessage, THandler>(string topic)
        where THandler : class, IMessageHandler<TMessage, TContext> =>
        Add<TMessage, THandler>(topic, HandlerRegistration<TContext>.Json<TMessage>(Json));

    /// <summary>
    /// As <see cref="AddHandler{TMessage, THandler}(string)"/>, the value deserialized by a Confluent deserializer made
    /// with the registry client of the <c>SchemaRegistry</c> settings, e.g. <c>registry => new AvroDeserializer&lt;Order&gt;(registry)</c>
    /// or <c>new JsonDeserializer&lt;Order&gt;(registry)</c>. A value it cannot read is a dead letter (UnknownSchema,
    /// InvalidEncoding); while the registry does not answer, the batch waits and nothing is dead-lettered.
    /// </summary>
    public KafkaSinkBuilder<TContext> AddHandler<TMessage, THandler>(string topic, Func<ISchemaRegistryClient, IAsyncDeserializer<TMessage>> deserializer)
        where THandler : class, IMessageHandler<TMessage, TContext>
    {
        ArgumentNullException.ThrowIfNull(deserializer);
        _services.TryAddSingleton<ISchemaRegistryClient>(services =>
        {
            var registry = services.GetRequiredService<IOptions<KafkaSinkOptions>>().Value.SchemaRegistry;
            if (registry is null || string.IsNullOrWhiteSpace(registry.Url))
            {
                throw new InvalidOperationException(
                    $"{_section}:{nameof(KafkaSinkOptions.SchemaRegistry)}:{nameof(SchemaRegistryOptions.Url)}: required: the handler of topic '{topic}' " +
                    $"({typeof(THandler).Name}) reads its values with a Schema Registry deserializer");
            }

            return SchemaRegistryClients.CreateClient(registry.ToSettings());
        });
        return Add<TMessage, THandler>(topic, HandlerRegistration<TContext>.Confluent(deserializer));
    }

    private KafkaSinkBuilder<TContext> Add<TMessage, THandler>(string topic, Func<IServiceProvider, MessageDeserializer> deserializer)
        where THandler : class, IMessageHandler<TMessage, TContext>
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        if (_handlers.Any(h => h.Topic == topic))
        {
            throw new InvalidOperationException($"topic '{topic}' already has a handler ({_handlers.First(h => h.Topic == topic).Name}): one handler per topic");
        }

        _services.TryAddScoped<THandler>();
        _handlers.Add(HandlerRegistration<TContext>.Create<TMessage, THandler>(topic, deserializer));
        return this;
    }
}
