using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SinkConnector.Configuration;
using SinkConnector.Observability;

namespace SinkConnector.Cli;

/// <summary>
/// The .NET Generic Host that <c>sink run</c> runs in: console logging, the metrics, the sink as a hosted service,
/// and Kestrel with <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c> when <c>http.listen</c> is set. SIGTERM
/// and SIGINT stop it through the host's console lifetime, giving the sink <c>shutdown_grace</c>.
/// </summary>
internal static class SinkHost
{
    public static IHost Build(SinkConfig config, (LogLevel Level, bool Json) logSettings)
    {
        // Empty builders: no configuration files or environment variables are read, and no default services
        // beyond the host's own (startup stays cheap). Without http.listen no web server is built at all.
        if (config.Connector.Http is { } http)
        {
            var web = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            Configure(web, config, logSettings, out var health);
            HttpEndpoints.Add(web, http, health);
            var app = web.Build();
            HttpEndpoints.Map(app);
            return app;
        }

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        Configure(builder, config, logSettings, out _);
        return builder.Build();
    }

    private static void Configure(IHostApplicationBuilder builder, SinkConfig config, (LogLevel Level, bool Json) logSettings, out SinkHealth health)
    {
        CliContext.ConfigureLogging(builder.Logging, logSettings);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = config.Connector.ShutdownGrace);
        // The sink logs its own start and stop; the lifetime's "Press Ctrl+C" lines would only add noise.
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        health = new SinkHealth();
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(health);
        Telemetry.AddMetrics(builder, prometheus: config.Connector.Http is not null);
        builder.Services.AddSingleton<SinkService>();
        builder.Services.AddHostedService(services => services.GetRequiredService<SinkService>());
    }
}
