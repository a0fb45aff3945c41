using System.Text;

namespace SinkConnector.Chaos;

internal enum MessageRole
{
    /// <summary>An insert-mode event: must become exactly one row.</summary>
    Event,

    /// <summary>An account upsert: the last one per key (unless deleted after) is the row.</summary>
    AccountWrite,

    /// <summary>A tombstone: the account must be gone unless written again later.</summary>
    AccountDelete,

    /// <summary>A message the sink must dead-letter, exactly once, and otherwise ignore.</summary>
    Poison,
}

/// <summary>One message of the produced sequence and what it must do to the tables.</summary>
/// <param name="Id">Event id, or account id (also for account poison, which targets a real key's partition).</param>
/// <param name="Version">Account version (the global sequence of account changes), -1 otherwise.</param>
/// <param name="DeadLetterKind">For poison: the <c>error_kind</c> its dead letter must have.</param>
internal sealed record PlannedMessage(
    int Sequence, string Topic, int Partition, byte[]? Key, byte[]? Value, MessageRole Role, long Id, long Version, string? DeadLetterKind);

/// <summary>
/// The produced sequence, a pure function of the seed: events with ids 0, 1, 2, ... on random partitions, account
/// upserts and tombstones keyed so an account always lands on the same partition, and about 0.5% poison on both
/// topics (conversion failures, and rows only Postgres rejects, through CHECK constraints).
/// </summary>
internal static class Workload
{
    public const string EventsTopic = "chaos-events";
    public const string AccountsTopic = "chaos-accounts";
    public const int Partitions = 12;

    // 1,000 keys: every key changes several times even in the 60 s run, and often within one batch.
    public const int Accounts = 1_000;

    private const double PoisonShare = 0.005;
    private const double DeleteShare = 0.08;

    /// <summary>Event share of the rate: two thirds events, one third account changes.</summary>
    private const double EventShare = 2.0 / 3;

    public static List<PlannedMessage> Generate(int seed, int count)
    {
        var random = new Random(seed);
        var messages = new List<PlannedMessage>(count);
        long nextEvent = 0, nextVersion = 0, poison = 0;
        for (var sequence = 0; sequence < count; sequence++)
        {
            var events = random.NextDouble() < EventShare;
            var isPoison = random.NextDouble() < PoisonShare;
            if (events)
            {
                var partition = random.Next(Partitions);
                messages.Add(isPoison
                    ? EventPoison(sequence, partition, random.Next(4), ++poison)
                    : Event(sequence, partition, nextEvent++));
            }
            else
            {
                long id = random.Next(Accounts);
                if (isPoison)
                {
                    messages.Add(AccountPoison(sequence, id, random.Next(6)));
                }
                else if (random.NextDouble() < DeleteShare)
                {
                    messages.Add(new PlannedMessage(sequence, AccountsTopic, AccountPartition(id), Utf8($$"""{"id":{{id}}}"""), null,
                        MessageRole.AccountDelete, id, nextVersion++, null));
                }
                else
                {
                    var version = nextVersion++;
                    messages.Add(new PlannedMessage(sequence, AccountsTopic, AccountPartition(id), Utf8($$"""{"id":{{id}}}"""),
                        Utf8($$"""{"id":{{id}},"balance":"{{version}}.50","version":{{version}}}"""), MessageRole.AccountWrite, id, version, null));
                }
            }
        }

        return messages;
    }

    public static int AccountPartition(long id) => (int)(id % Partitions);

    private static PlannedMessage Event(int sequence, int partition, long id) =>
        new(sequence, EventsTopic, partition, Utf8($"e{id}"), Utf8($$"""{"id":{{id}},"body":"event {{id}}"}"""), MessageRole.Event, id, -1, null);

    private static PlannedMessage EventPoison(int sequence, int partition, int variant, long n)
    {
        var (kind, value) = variant switch
        {
            0 => ("InvalidJson", Utf8($$"""{"id": {{n}}, "body": """)),
            1 => ("MissingField", Utf8($$"""{"body":"poison {{n}} has no id"}""")),
            2 => ("WrongType", Utf8($$"""{"id":"poison-{{n}}","body":"wrong type"}""")),
            // Converts fine; only the table's CHECK (id >= 0) refuses it, at write time, inside a batch.
            _ => ("Rejected", Utf8($$"""{"id":{{-n}},"body":"rejected by CHECK"}""")),
        };
        return new PlannedMessage(sequence, EventsTopic, partition, Utf8($"poison-{n}"), value, MessageRole.Poison, -n, -1, kind);
    }

    /// <summary>Poison aimed at a real account's partition, so it sits between that key's changes.</summary>
    private static PlannedMessage AccountPoison(int sequence, long id, int variant)
    {
        var key = Utf8($$"""{"id":{{id}}}""");
        var (kind, value) = variant switch
        {
            0 => ("InvalidJson", [.. Utf8($$"""{"id":{{id}},"balance":"""), 0xFF, 0xFE, (byte)'}']),
            1 => ("MissingField", Utf8("""{"id":null,"balance":"1.00","version":1}""")),
            2 => ("WrongType", Utf8($$"""{"id":{{id}},"balance":"lots","version":1}""")),
            3 => ("OutOfRange", Utf8($$"""{"id":{{id}},"balance":123456789012345678901.5,"version":1}""")),
            // A tombstone whose key has no id: nothing to delete by.
            4 => ("MissingField", (byte[]?)null),
            // Converts fine; only the table's CHECK (version >= 0) refuses it, at write time.
            _ => ("Rejected", Utf8($$"""{"id":{{id}},"balance":"1.00","version":-1}""")),
        };
        if (variant == 4)
        {
            key = Utf8($$"""{"account":{{id}}}""");
        }

        return new PlannedMessage(sequence, AccountsTopic, AccountPartition(id), key, value, MessageRole.Poison, id, -1, kind);
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
