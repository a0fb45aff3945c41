using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>Library mode's registration (docs/library.md).</summary>
public static class KafkaSinkServiceCollectionExtensions
{
    /// <summary>
    /// Adds an exactly-once Kafka consumer to the host: per batch, the handlers change a <typeparamref name="TContext"/>
    /// and its changes commit together with the batch's partition offsets (schema <see cref="KafkaSinkOptions.Schema"/>
    /// of the same database, migrated at startup). Settings come from <paramref name="configuration"/>
    /// (<see cref="KafkaSinkOptions"/>), validated when the consumer starts. <typeparamref name="TContext"/> must be registered
    /// with <c>AddDbContextFactory</c> and use PostgreSQL.
    /// </summary>
    public static KafkaSinkBuilder<TContext> AddKafkaSink<TContext>(this IServiceCollection services, IConfigurationSection configuration)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(configuration);
        // Validated when the consumer starts (not ValidateOnStart): a failure then ends the host with exit code 1 and one
        // critical line naming the key, instead of an exception out of StartAsync that crashes the app with a stack trace.
        services.AddOptions<KafkaSinkOptions>().Bind(configuration);
        services.AddSingleton<IValidateOptions<KafkaSinkOptions>>(new KafkaSinkOptionsValidator(configuration.Path));
        // Whichever way the app registers its context, the guard is on it: handlers must not save or commit.
        services.ConfigureDbContext<TContext>(o => o.AddInterceptors(HandlerGuard.Instance));
        var handlers = new List<HandlerRegistration<TContext>>();
        services.AddSingleton(handlers);
        services.AddHostedService<KafkaSinkService<TContext>>();
        return new KafkaSinkBuilder<TContext>(services, handlers, configuration.Path);
    }
}
