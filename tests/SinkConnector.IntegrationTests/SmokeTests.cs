namespace SinkConnector.IntegrationTests;

public class SmokeTests(TestServices services)
{
    [Fact]
    public async Task Ten_thousand_messages_on_four_partitions_arrive_exactly_once()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "smoke", partitions: 4);
        await bed.ProduceAsync(10_000, partitions: 4);

        await bed.RunInProcessAsync(() => bed.WaitForRowsAsync(10_000, TimeSpan.FromMinutes(2)), TimeSpan.FromMinutes(2));

        await bed.AssertExactlyOnceAsync(10_000);
    }
}
