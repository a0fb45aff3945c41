using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SinkConnector.Configuration;
using SinkConnector.Observability;

namespace SinkConnector.Cli;

/// <summary>
/// <c>/healthz</c> (the loop polls), <c>/readyz</c> (in the group, Postgres answering) and <c>/metrics</c>
/// (Prometheus text), served by Kestrel on <c>http.listen</c> only; nothing listens when it is not set.
/// </summary>
internal static class HttpEndpoints
{
    private const string Live = "live";
    private const string Ready = "ready";

    /// <summary>Kestrel on <c>http.listen</c>, and the two health checks built on <paramref name="health"/>.</summary>
    public static void Add(WebApplicationBuilder builder, HttpSettings settings, SinkHealth health)
    {
        // Kestrel and endpoint routing only: no configuration files, HTTPS or other defaults of a web app.
        builder.WebHost.UseKestrelCore();
        builder.WebHost.UseUrls($"http://{settings.Listen}");
        builder.Services.AddRoutingCore();
        builder.Services.AddHealthChecks()
            .AddCheck(Live, () => Result(health.IsLive(out var reason), reason), [Live])
            .AddCheck(Ready, () => Result(health.IsReady(out var reason), reason), [Ready]);
    }

    public static void Map(WebApplication app)
    {
        app.MapHealthChecks("/healthz", Options(Live));
        app.MapHealthChecks("/readyz", Options(Ready));
        app.MapPrometheusScrapingEndpoint();
    }

    private static HealthCheckResult Result(bool ok, string reason) => ok ? HealthCheckResult.Healthy(reason) : HealthCheckResult.Unhealthy(reason);

    /// <summary>Runs the one check tagged <paramref name="tag"/>: 200 when healthy, 503 otherwise (the defaults).</summary>
    private static HealthCheckOptions Options(string tag) => new()
    {
        Predicate = check => check.Tags.Contains(tag),
        ResponseWriter = WriteAsync,
    };

    /// <summary>The body probes and operators read: <c>ok: &lt;reason&gt;</c> or <c>failing: &lt;reason&gt;</c>.</summary>
    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        var reason = string.Join("; ", report.Entries.Values.Select(e => e.Description));
        return context.Response.WriteAsync((report.Status == HealthStatus.Healthy ? "ok: " : "failing: ") + reason + "\n", context.RequestAborted);
    }
}
