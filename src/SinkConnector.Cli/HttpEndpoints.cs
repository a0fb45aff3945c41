using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SinkConnector.Configuration;
using SinkConnector.Observability;

namespace SinkConnector.Cli;

/// <summary>
/// <c>/healthz</c> (the loop polls), <c>/readyz</c> (in the group, Postgres answering) and <c>/metrics</c>
/// (Prometheus text), served by Kestrel on <c>http.listen</c> only; nothing listens when it is not set.
/// </summary>
internal static class HttpEndpoints
{
    public static async Task<WebApplication> StartAsync(HttpSettings settings, SinkHealth health, PrometheusExporter metrics, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        // The sink logs its own lines; Kestrel's request logging would drown them.
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{settings.Listen}");
        var app = builder.Build();
        app.MapGet("/healthz", () => Answer(health.IsLive(out var reason), reason));
        app.MapGet("/readyz", () => Answer(health.IsReady(out var reason), reason));
        app.MapGet("/metrics", () => Results.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        await app.StartAsync(cancellationToken);
        return app;
    }

    private static IResult Answer(bool ok, string reason) =>
        Results.Text((ok ? "ok: " : "failing: ") + reason + "\n", "text/plain; charset=utf-8", statusCode: ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
}
