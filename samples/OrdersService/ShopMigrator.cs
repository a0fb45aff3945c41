using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;

namespace OrdersService;

/// <summary>Applies the app's migrations at startup, before the Kafka consumer starts (hosted services start in order).</summary>
public sealed class ShopMigrator(IDbContextFactory<ShopDbContext> contexts) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Database.MigrateAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
