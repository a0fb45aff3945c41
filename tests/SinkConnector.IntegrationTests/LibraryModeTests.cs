using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Library mode through the sample app (samples/OrdersService) as a real process: handlers update orders and
/// per-customer totals read-modify-write, so a single redelivered order would count twice.
/// </summary>
public class LibraryModeTests(TestServices services)
{
    [Fact]
    public async Task Killed_app_resumes_from_database_offsets_and_counts_every_order_once()
    {
        const int partitions = 4, kills = 4, perRun = 3_000;
        var seed = Random.Shared.Next();
        var bed = await OrdersAppBed.CreateAsync(services, "lib_killed", partitions, seed);
        for (var kill = 0; kill < kills; kill++)
        {
            await bed.ProduceOrdersAsync(perRun);
            await bed.RunAndKillAsync();
            // Whatever the kill interrupted, the tables are exactly the orders below the stored offsets.
            await bed.AssertConsistentAsync();
        }

        using var last = bed.StartApp();
        await bed.WaitForCommittedAsync(bed.Produced, last);
        await OrdersAppBed.StopAsync(last);
        await bed.AssertAllOrdersOnceAsync();
    }

    [Fact]
    public async Task Paused_app_is_fenced_after_it_resumes_and_two_instances_share_the_group_exactly_once()
    {
        const int partitions = 4, chunk = 2_000;
        var bed = await OrdersAppBed.CreateAsync(services, "lib_zombie", partitions, seed: Random.Shared.Next());
        await bed.ProduceOrdersAsync(chunk);
        using var zombie = bed.StartApp();
        await bed.WaitForCommittedAsync(chunk, zombie);

        // Orders the zombie fetches into a batch, then it freezes; the group drops it after session.timeout.ms.
        await bed.ProduceOrdersAsync(chunk);
        zombie.Signal(SinkProcess.SIGSTOP);
        using var successor = bed.StartApp();
        await bed.WaitForCommittedAsync(2 * chunk, successor);

        // Back in the group: a rebalance while orders stream in, two instances sharing the partitions.
        zombie.Signal(SinkProcess.SIGCONT);
        for (var part = 0; part < 4; part++)
        {
            await bed.ProduceOrdersAsync(chunk / 4);
            await Task.Delay(500, TestContext.Current.CancellationToken);
        }

        await bed.WaitForCommittedAsync(3 * chunk, zombie, successor);
        await Task.Delay(3000, TestContext.Current.CancellationToken); // room for a late zombie commit, if fencing failed
        await OrdersAppBed.StopAsync(zombie);
        await OrdersAppBed.StopAsync(successor);
        await bed.AssertAllOrdersOnceAsync();
    }

    [Fact]
    public async Task Orders_a_handler_refuses_or_cannot_read_become_dead_letters_and_the_rest_commits()
    {
        var bed = await OrdersAppBed.CreateAsync(services, "lib_poison", partitions: 2, seed: Random.Shared.Next());
        await bed.ProduceOrdersAsync(2_000, poison: 20);
        using var app = bed.StartApp();
        await bed.WaitForCommittedAsync(bed.Produced, app);
        await OrdersAppBed.StopAsync(app);

        await bed.AssertAllOrdersOnceAsync();
        var kinds = await TestSql.QueryAsync(bed.ConnectionString,
            "SELECT error_kind, mapping, count(*) FROM sink.dead_letters GROUP BY 1, 2 ORDER BY 1",
            r => (Kind: r.GetString(0), Source: r.GetString(1), Count: r.GetInt64(2)));
        Assert.All(kinds, k => Assert.Equal("OrderPlacedHandler", k.Source));
        Assert.Equal(["HandlerFailed", "InvalidJson"], kinds.Select(k => k.Kind));
        Assert.Equal(bed.Produced - bed.Orders.Count, kinds.Sum(k => k.Count));
    }
}
