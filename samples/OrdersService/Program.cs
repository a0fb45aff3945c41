using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrdersService;
using SinkConnector.EntityFrameworkCore;

// Settings: appsettings.json, overridden by environment variables (ConnectionStrings__Shop,
// KafkaSink__BootstrapServers, KafkaSink__GroupId, Orders__Topic, ...).
var builder = Host.CreateApplicationBuilder(args);
var connectionString = builder.Configuration.GetConnectionString("Shop")
    ?? throw new InvalidOperationException("ConnectionStrings:Shop is not set (environment variable ConnectionStrings__Shop)");

builder.Services.AddDbContextFactory<ShopDbContext>(o => o.UseNpgsql(connectionString));
builder.Services.AddHostedService<ShopMigrator>();
builder.Services.AddKafkaSink<ShopDbContext>(builder.Configuration.GetSection("KafkaSink"))
    .AddHandler<OrderPlaced, OrderPlacedHandler>(builder.Configuration["Orders:Topic"] ?? "order-placed");

await builder.Build().RunAsync();
