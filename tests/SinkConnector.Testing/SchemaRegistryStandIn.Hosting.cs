using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace SinkConnector.Testing;

/// <summary>
/// How the stand-in is hosted: Kestrel on 127.0.0.1, plain HTTP or HTTPS (HttpListener cannot serve HTTPS on Linux).
/// Closing stops the server, so its port refuses connections; opening starts a new one on the same port.
/// </summary>
public sealed partial class SchemaRegistryStandIn
{

    private readonly int _port;
    private readonly StandInTls? _tls;
    private WebApplication? _app;

    private void Listen()
    {
        lock (_lock)
        {
            if (_app is not null)
            {
                return;
            }

            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
            builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, _port, listen =>
            {
                if (_tls is not null)
                {
                    listen.UseHttps(_tls.HttpsOptions());
                }
            }));
            var app = builder.Build();
            ((IApplicationBuilder)app).Run(AnswerAsync);
            app.StartAsync().GetAwaiter().GetResult();
            _app = app;
        }
    }

    private void Close() => CloseAsync().AsTask().GetAwaiter().GetResult();

    private async ValueTask CloseAsync()
    {
        WebApplication? app;
        lock (_lock)
        {
            app = _app;
            _app = null;
        }

        if (app is not null)
        {
            // An outage: connections in flight break, as they would; nothing waits for them.
            using var abort = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            await app.StopAsync(abort.Token);
            await app.DisposeAsync();
        }
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var request = context.Request;
        // The raw target, as HttpListener gave it: path segments are unescaped one by one (a subject may hold '/').
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.ToUriComponent() + request.QueryString;
        var path = target.Split('?', 2)[0];
        _requests.Enqueue($"{request.Method} {target}");
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        var (status, answer) = RefuseWith is { } refused
            ? (refused, new System.Text.Json.Nodes.JsonObject { ["error_code"] = (int)refused, ["message"] = $"refused by the test ({refused})" })
            : Route(request.Method, path.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray(), body, request.Query["format"].FirstOrDefault());
        var bytes = Encoding.UTF8.GetBytes(answer.ToJsonString());
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = ContentType;
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }
}
