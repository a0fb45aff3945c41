namespace SinkConnector.Chaos;

/// <summary>
/// What the tables must hold at zero lag, computed from the produced sequence as Kafka stored it (see
/// <see cref="LogReader"/>), independently of the sink: every event record once, at its (partition, offset); per
/// account the last change in partition order, applied one message at a time (deleted accounts absent); one dead
/// letter per poison record, except where upsert's "last change per key within a batch" may legitimately skip one.
/// </summary>
internal sealed class ExpectedState
{
    /// <summary>Event id per event record's (partition, offset).</summary>
    public Dictionary<(int Partition, long Offset), long> Events { get; } = [];

    /// <summary>Accounts that must exist: version and offset of their last write.</summary>
    public Dictionary<long, (long Version, long Offset)> Accounts { get; } = [];

    /// <summary>Accounts whose last change is a delete: present would be a resurrection.</summary>
    public HashSet<long> DeletedAccounts { get; } = [];

    public Dictionary<(string Topic, int Partition, long Offset), PlannedMessage> DeadLetters { get; } = [];

    /// <summary>
    /// Dead letters that may be absent: an account write only Postgres rejects, followed by another change of the
    /// same account. If both land in one batch, only the later change is applied (docs/configuration.md, "Write modes"), so the
    /// rejected value never reaches Postgres. Whether they share a batch depends on timing, so either outcome passes.
    /// </summary>
    public HashSet<(string Topic, int Partition, long Offset)> OptionalDeadLetters { get; } = [];

    /// <summary>Log end offset per partition: where every stored next offset must end up.</summary>
    public Dictionary<(string Topic, int Partition), long> EndOffsets { get; } = [];

    /// <summary>Each account's records (changes and poison) in offset order, to explain a wrong row.</summary>
    public Dictionary<long, List<(PlannedMessage Message, long Offset)>> AccountHistory { get; } = [];

    public static ExpectedState Compute(IReadOnlyList<LogRecord> log)
    {
        var state = new ExpectedState();
        foreach (var topic in new[] { Workload.EventsTopic, Workload.AccountsTopic })
        {
            for (var p = 0; p < Workload.Partitions; p++)
            {
                state.EndOffsets[(topic, p)] = 0;
            }
        }

        // Offset order is partition order, which is all that matters: an account lives on one partition.
        foreach (var record in log.OrderBy(r => r.Offset))
        {
            var message = record.Message;
            var partition = (message.Topic, record.Partition);
            state.EndOffsets[partition] = Math.Max(state.EndOffsets[partition], record.Offset + 1);
            if (message.Topic == Workload.AccountsTopic)
            {
                state.History(message.Id).Add((message, record.Offset));
            }

            switch (message.Role)
            {
                case MessageRole.Event:
                    state.Events[(record.Partition, record.Offset)] = message.Id;
                    break;
                case MessageRole.AccountWrite:
                    state.Accounts[message.Id] = (message.Version, record.Offset);
                    state.DeletedAccounts.Remove(message.Id);
                    break;
                case MessageRole.AccountDelete:
                    // Deleting a key that does not exist is a no-op, and still "must be absent".
                    state.Accounts.Remove(message.Id);
                    state.DeletedAccounts.Add(message.Id);
                    break;
                case MessageRole.Poison:
                    state.DeadLetters[(message.Topic, record.Partition, record.Offset)] = message;
                    break;
            }
        }

        foreach (var history in state.AccountHistory.Values)
        {
            for (var i = 0; i < history.Count; i++)
            {
                var (message, offset) = history[i];
                if (message.DeadLetterKind == "Rejected" && history.Skip(i + 1).Any(later => IsChange(later.Message)))
                {
                    state.OptionalDeadLetters.Add((message.Topic, message.Partition, offset));
                }
            }
        }

        return state;
    }

    /// <summary>Whether the message reaches the batch as a change of its key (conversion poison does not).</summary>
    private static bool IsChange(PlannedMessage message) =>
        message.Role is MessageRole.AccountWrite or MessageRole.AccountDelete || message.DeadLetterKind == "Rejected";

    private List<(PlannedMessage, long)> History(long id)
    {
        if (!AccountHistory.TryGetValue(id, out var history))
        {
            AccountHistory[id] = history = [];
        }

        return history;
    }
}
