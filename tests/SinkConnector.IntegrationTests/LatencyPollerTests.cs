using Npgsql;
using SinkConnector.Benchmarks.Latency;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// The benchmark's visibility poller (eng/bench.sh, steady-rate latency) against a real Postgres: commits of
/// <c>sink.offsets</c> made at known times must be stamped inside the poller's bounds.
/// </summary>
public class LatencyPollerTests(TestServices services)
{
    [Fact]
    public async Task Each_commit_is_stamped_after_the_read_before_it_and_by_the_read_that_saw_it()
    {
        var connectionString = await services.Postgres.CreateDatabaseAsync("latency_poller", TestContext.Current.CancellationToken);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await ExecuteAsync(connection,
            """
            CREATE SCHEMA sink;
            CREATE TABLE sink.offsets (group_id text, topic text, partition integer, next_offset bigint, PRIMARY KEY (group_id, topic, partition));
            INSERT INTO sink.offsets VALUES ('g', 't', 0, NULL), ('g', 't', 1, 0), ('other', 't', 0, 1000);
            """);
        const int commits = 8;
        const int perCommit = 10;
        var timeline = new LatencyTimeline([commits * perCommit, 1]);
        for (var offset = 0; offset < commits * perCommit; offset++)
        {
            timeline.Acknowledged(0, offset, createTimeMs: 0, at: 0);
        }

        var poller = new VisibilityPoller(connectionString, "g", "t", timeline, TimeSpan.FromMilliseconds(5));
        using var stop = new CancellationTokenSource();
        var polling = Task.Factory.StartNew(() => poller.Run(stop.Token), stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        while (poller.Reads == 0)
        {
            Assert.False(polling.IsCompleted, polling.Exception?.ToString());
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        // The commit becomes visible at some instant between sending the UPDATE and its answer.
        var committed = new List<(double Sent, double Answered)>();
        for (var k = 1; k <= commits; k++)
        {
            await Task.Delay(Random.Shared.Next(0, 30), TestContext.Current.CancellationToken);
            var sent = LatencyTimeline.Now();
            await ExecuteAsync(connection, $"UPDATE sink.offsets SET next_offset = {k * perCommit} WHERE group_id = 'g' AND partition = 0");
            committed.Add((sent, LatencyTimeline.Now()));
        }

        while (poller.Visible < commits * perCommit)
        {
            Assert.False(polling.IsCompleted, polling.Exception?.ToString());
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        await stop.CancelAsync();
        await polling;
        var messages = timeline.Messages().Where(m => m.Partition == 0).OrderBy(m => m.Offset).ToList();
        for (var k = 0; k < commits; k++)
        {
            foreach (var m in messages.Skip(k * perCommit).Take(perCommit))
            {
                Assert.True(m.VisibleAfterMs <= committed[k].Answered, $"offset {m.Offset}: stamped after {m.VisibleAfterMs}, committed by {committed[k].Answered}");
                Assert.True(m.VisibleByMs >= committed[k].Sent, $"offset {m.Offset}: stamped by {m.VisibleByMs}, committed after {committed[k].Sent}");
            }
        }

        // The window between the bounds is one of the resolutions the poller reports, and it is a few ms on an idle machine.
        Assert.All(messages, m => Assert.Contains(poller.Resolutions, r => Math.Abs(r - (m.VisibleByMs - m.VisibleAfterMs)) < 1e-6));
        Assert.Equal(0, poller.Visible - commits * perCommit);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }
}
