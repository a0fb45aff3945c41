using SinkConnector.Benchmarks.Scenarios;

namespace SinkConnector.UnitTests.Benchmarks;

/// <summary>What the benchmark reads from a `sink run` log: the window from the first claim to the commit that completes the backlog.</summary>
public sealed class SinkLogTests
{
    [Fact]
    public void The_log_gives_the_claim_the_first_commit_and_the_commit_that_completes_the_backlog()
    {
        const string output = """
            2026-12-03T10:15:54.853Z info: sink[1000] Subscribed to orders as group g
            2026-12-03T10:15:54.923Z info: sink[1001] Claimed orders [[0]] at epoch 1, resuming at the beginning of the partition
            2026-12-03T10:15:55.297Z dbug: sink[1006] Committed batch: 10000 messages, 10000 rows, 2 partitions in 175 ms
            2026-12-03T10:15:55.504Z dbug: sink[1006] Committed batch: 10000 messages, 10000 rows, 3 partitions in 333 ms
            2026-12-03T10:15:55.600Z dbug: sink[1006] Committed batch: 5000 messages, 5000 rows, 1 partitions in 80 ms
            """;

        var log = SinkEndToEnd.ParseLog(output, new DateTime(2026, 12, 3, 10, 15, 50, DateTimeKind.Utc), total: 25_000);

        Assert.Equal(TimeSpan.Parse("10:15:54.923", System.Globalization.CultureInfo.InvariantCulture), log.Claimed.TimeOfDay);
        Assert.Equal(TimeSpan.Parse("10:15:55.297", System.Globalization.CultureInfo.InvariantCulture), log.FirstCommit.TimeOfDay);
        Assert.Equal(10_000, log.FirstCommitMessages);
        Assert.Equal(TimeSpan.Parse("10:15:55.600", System.Globalization.CultureInfo.InvariantCulture), log.Done.TimeOfDay);
        Assert.Equal([175.0, 333.0, 80.0], log.CommitMilliseconds);
    }
}
