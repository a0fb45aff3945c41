namespace SinkConnector.Chaos;

/// <summary>One verdict line: a name, pass or fail, the counts, and the first differences.</summary>
internal sealed record CheckResult(string Name, bool Passed, string Summary, IReadOnlyList<string> Differences);

/// <summary>
/// The end-of-soak checks, at zero lag, of the tables against <see cref="ExpectedState"/>: no duplicate, no missing,
/// no resurrected and no torn row, dead letters exactly the poison messages, stored offsets exactly at the log end.
/// </summary>
internal sealed class Verifier(ChaosDatabase database, ExpectedState expected)
{
    private const int Shown = 20;
    private const string SoakGroup = SoakSetup.GroupId;

    public async Task<List<CheckResult>> RunAsync() =>
    [
        await OffsetsAsync(),
        await EventsAsync(),
        await AccountsAsync(),
        await DeadLettersAsync(),
    ];

    private async Task<CheckResult> OffsetsAsync()
    {
        var stored = await database.StoredOffsetsAsync(SoakGroup);
        var wrong = expected.EndOffsets
            .Select(e => (e.Key, End: e.Value, Stored: stored.TryGetValue(e.Key, out var s) ? s.NextOffset ?? 0 : 0))
            .Where(x => x.Stored != x.End)
            .Select(x => $"{x.Key.Topic}[{x.Key.Partition}]: stored next_offset {x.Stored}, log end {x.End}");
        var claims = stored.Values.Sum(s => s.Epoch);
        var differences = new Differences();
        differences.Add(wrong);
        return Result("offsets", differences,
            $"{expected.EndOffsets.Count} partitions at their log end ({expected.EndOffsets.Values.Sum()} messages); {claims} claims (sum of epochs) during the run");
    }

    /// <summary>Insert mode: every event record of the log is exactly one row, and no row comes from anywhere else.</summary>
    private async Task<CheckResult> EventsAsync()
    {
        var rows = await database.QueryAsync(
            """
            SELECT id, src_partition, src_offset,
                   body = 'event ' || id AND payload = jsonb_build_object('id', id, 'body', 'event ' || id)
            FROM public.events
            """,
            r => (Id: r.GetInt64(0), Partition: r.GetInt32(1), Offset: r.GetInt64(2), Intact: r.GetBoolean(3)));
        var bySource = rows.GroupBy(r => (r.Partition, r.Offset)).ToDictionary(g => g.Key, g => g.ToList());
        var differences = new Differences();
        differences.Add(bySource.Where(g => g.Value.Count > 1).OrderBy(g => g.Key)
            .Select(g => $"duplicate: [{g.Key.Partition}]@{g.Key.Offset} written {g.Value.Count} times (ids {string.Join(", ", g.Value.Select(r => r.Id))})"));
        var missing = expected.Events.Where(e => !bySource.ContainsKey(e.Key)).OrderBy(e => e.Value).ToList();
        differences.Add(missing.Select(e => $"missing id {e.Value} (record [{e.Key.Partition}]@{e.Key.Offset})"));
        differences.Add(bySource.Keys.Where(at => !expected.Events.ContainsKey(at)).Order()
            .Select(at => $"unexpected row from [{at.Partition}]@{at.Offset} (ids {string.Join(", ", bySource[at].Select(r => r.Id))}): no event record there"));
        differences.Add(rows.Where(r => expected.Events.TryGetValue((r.Partition, r.Offset), out var id) && id != r.Id)
            .Select(r => $"row from [{r.Partition}]@{r.Offset} has id {r.Id}, the record there is id {expected.Events[(r.Partition, r.Offset)]}"));
        differences.Add(rows.Where(r => !r.Intact).Select(r => $"id {r.Id}: body or payload is not what was produced"));
        var duplicates = bySource.Values.Sum(g => g.Count - 1);
        return Result("events (insert)", differences,
            $"{rows.Count} rows ({rows.Select(r => r.Id).Distinct().Count()} distinct ids) for {expected.Events.Count} event records; "
            + $"{duplicates} duplicates, {missing.Count} missing");
    }

    private async Task<CheckResult> AccountsAsync()
    {
        var rows = (await database.QueryAsync(
            "SELECT id, version, src_offset, balance = (version || '.50')::numeric FROM public.accounts",
            r => (Id: r.GetInt64(0), Version: r.GetInt64(1), Offset: r.GetInt64(2), Intact: r.GetBoolean(3))))
            .ToDictionary(r => r.Id);
        var differences = new Differences();
        var missing = expected.Accounts.Keys.Where(id => !rows.ContainsKey(id)).Order().ToList();
        var resurrected = rows.Keys.Where(expected.DeletedAccounts.Contains).Order().ToList();
        var stale = rows.Values.Where(r => expected.Accounts.TryGetValue(r.Id, out var e) && e.Version != r.Version).OrderBy(r => r.Id).ToList();
        differences.Add(FirstUnapplied(missing.Concat(resurrected).Concat(stale.Select(r => r.Id)), rows.ToDictionary(r => r.Key, r => r.Value.Offset)));
        differences.Add(missing.Select(id => $"missing account {id}: {Explain(id)}"));
        differences.Add(resurrected.Select(id => $"resurrected account {id} (version {rows[id].Version}): {Explain(id)}"));
        differences.Add(stale.Select(r => $"account {r.Id} has version {r.Version} from @{r.Offset}, expected {expected.Accounts[r.Id].Version}: {Explain(r.Id)}"));
        differences.Add(rows.Keys.Where(id => !expected.Accounts.ContainsKey(id) && !expected.DeletedAccounts.Contains(id))
            .Select(id => $"unexpected account {id} (never produced)"));
        differences.Add(rows.Values.Where(r => !r.Intact || (expected.Accounts.TryGetValue(r.Id, out var e) && e.Version == r.Version && e.Offset != r.Offset))
            .Select(r => $"torn account {r.Id}: balance or src_offset does not belong to version {r.Version}"));
        return Result("accounts (upsert + tombstones)", differences,
            $"{rows.Count} rows, {expected.Accounts.Count} expected, {expected.DeletedAccounts.Count} deleted; "
            + $"{missing.Count} missing, {resurrected.Count} resurrected, {stale.Count} stale");
    }

    private async Task<CheckResult> DeadLettersAsync()
    {
        var rows = await database.QueryAsync(
            "SELECT topic, partition, \"offset\", error_kind FROM sink.dead_letters",
            r => (Key: (r.GetString(0), r.GetInt32(1), r.GetInt64(2)), Kind: r.GetString(3)));
        var byMessage = rows.GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Select(r => r.Kind).ToList());
        var differences = new Differences();
        differences.Add(byMessage.Where(g => g.Value.Count > 1)
            .Select(g => $"duplicate dead letter {Name(g.Key)}: {g.Value.Count} rows"));
        differences.Add(expected.DeadLetters.Where(e => !byMessage.ContainsKey(e.Key) && !expected.OptionalDeadLetters.Contains(e.Key)).OrderBy(e => e.Key)
            .Select(e => $"missing dead letter {Name(e.Key)} ({e.Value.DeadLetterKind})"
                + (e.Key.Topic == Workload.AccountsTopic ? $"; account {e.Value.Id}: {Around(e.Value.Id, e.Key.Offset)}" : "")));
        differences.Add(byMessage.Where(g => !expected.DeadLetters.ContainsKey(g.Key))
            .Select(g => $"unexpected dead letter {Name(g.Key)} ({string.Join(", ", g.Value)}): not a poison message"));
        differences.Add(byMessage.Where(g => expected.DeadLetters.TryGetValue(g.Key, out var e) && g.Value.Any(kind => kind != e.DeadLetterKind))
            .Select(g => $"dead letter {Name(g.Key)} filed as {string.Join(", ", g.Value)}, expected {expected.DeadLetters[g.Key].DeadLetterKind}"));
        var kinds = string.Join(", ", rows.GroupBy(r => r.Kind).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"));
        return Result("dead letters", differences,
            $"{rows.Count} rows for {byMessage.Count} messages, {expected.DeadLetters.Count} poison records ({kinds}); "
            + $"{expected.OptionalDeadLetters.Count(byMessage.ContainsKey)} of {expected.OptionalDeadLetters.Count} superseded rejected upserts dead-lettered");
    }

    /// <summary>The account's last few messages in partition order: what the row should have followed.</summary>
    private string Explain(long id)
    {
        var history = expected.AccountHistory.GetValueOrDefault(id) ?? [];
        return "last messages " + string.Join(", ", history.TakeLast(4).Select(Describe)) + $" on [{Workload.AccountPartition(id)}]";
    }

    /// <summary>
    /// Per partition, the earliest change of a wrong account that never reached the table (after the row's own offset):
    /// a skipped range shows up as one partition with an early offset, a de-duplication loss as scattered ones.
    /// </summary>
    private IEnumerable<string> FirstUnapplied(IEnumerable<long> wrongAccounts, Dictionary<long, long> rowOffsets)
    {
        var first = wrongAccounts
            .Select(id => (Partition: Workload.AccountPartition(id), Offset: expected.AccountHistory[id]
                .Where(h => h.Message.Role != MessageRole.Poison && h.Offset > rowOffsets.GetValueOrDefault(id, -1))
                .Select(h => h.Offset).DefaultIfEmpty(long.MaxValue).Min(), Id: id))
            .GroupBy(x => x.Partition).OrderBy(g => g.Key)
            .Select(g => $"[{g.Key}]: {g.Count()} wrong accounts; first unapplied change @{g.Min(x => x.Offset)}")
            .ToList();
        return first.Count == 0 ? [] : [$"by partition: {string.Join("; ", first)}"];
    }

    /// <summary>The account's messages next to <paramref name="offset"/>: what a poison message sat between.</summary>
    private string Around(long id, long offset)
    {
        var history = expected.AccountHistory.GetValueOrDefault(id) ?? [];
        var at = history.FindIndex(h => h.Offset == offset);
        return "messages " + string.Join(", ", history.Skip(Math.Max(0, at - 1)).Take(4).Select(Describe));
    }

    private static string Describe((PlannedMessage Message, long Offset) h) => h.Message.Role switch
    {
        MessageRole.AccountWrite => $"@{h.Offset} write v{h.Message.Version}",
        MessageRole.AccountDelete => $"@{h.Offset} delete",
        _ => $"@{h.Offset} poison ({h.Message.DeadLetterKind})",
    };

    private static string Name((string Topic, int Partition, long Offset) key) => $"{key.Topic}[{key.Partition}]@{key.Offset}";

    private static CheckResult Result(string name, Differences differences, string summary) =>
        new(name, differences.Lines.Count == 0, summary, differences.Lines);

    /// <summary>The first <see cref="Shown"/> differences of each kind, and how many more there were.</summary>
    private sealed class Differences
    {
        public List<string> Lines { get; } = [];

        public void Add(IEnumerable<string> differences)
        {
            var all = differences.ToList();
            Lines.AddRange(all.Take(Shown));
            if (all.Count > Shown)
            {
                Lines.Add($"... and {all.Count - Shown} more like the above");
            }
        }
    }
}
