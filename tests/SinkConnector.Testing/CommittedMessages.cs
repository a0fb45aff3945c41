namespace SinkConnector.Testing;

/// <summary>
/// How many messages a consumer group has committed: the sum of its stored next offsets (topics starting at offset 0),
/// read from the offsets table outside the code under test; 0 while that table does not exist yet (before the first start).
/// </summary>
public static class CommittedMessages
{
    public static async Task<long> SumAsync(string connectionString, string groupId, string schema = "sink")
    {
        if (await TestSql.ScalarAsync(connectionString, $"SELECT count(*) FROM pg_tables WHERE schemaname = '{schema}' AND tablename = 'offsets'") == 0)
        {
            return 0;
        }

        return await TestSql.ScalarAsync(connectionString,
            $"SELECT coalesce(sum(next_offset), 0) FROM \"{schema}\".offsets WHERE group_id = '{groupId}'");
    }

    /// <summary>
    /// Polls until <paramref name="count"/> messages are committed (true) or <paramref name="giveUp"/> says waiting is
    /// pointless (false: the consumer stopped); throws <see cref="TimeoutException"/> with <paramref name="diagnostics"/> after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<bool> WaitForAsync(
        string connectionString, string groupId, long count, TimeSpan timeout, Func<string>? diagnostics = null, Func<bool>? giveUp = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        long committed;
        while ((committed = await SumAsync(connectionString, groupId)) < count)
        {
            if (giveUp?.Invoke() == true)
            {
                return false;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{committed} of {count} messages committed after {timeout}.\n{diagnostics?.Invoke()}");
            }

            await Task.Delay(100);
        }

        return true;
    }
}
