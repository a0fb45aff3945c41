using System.Text;
using Confluent.Kafka;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// A produced sequence of account upserts (many per key) and deletes (tombstones), keyed so that an account always
/// lands on the same partition, and the table it must end as, computed from what was produced, not by the sink.
/// </summary>
internal sealed class AccountChanges(int partitions, int accounts, int seed)
{
    public const string TableSql =
        "CREATE TABLE public.accounts (id bigint PRIMARY KEY, balance numeric(14,2) NOT NULL, version bigint NOT NULL, src_offset bigint NOT NULL)";

    private readonly Random _random = new(seed);
    private readonly List<(long Id, long? Version)>[] _log = [.. Enumerable.Range(0, partitions).Select(_ => new List<(long, long?)>())];
    private long _sequence;

    public static string Mapping(string topic, string onError = "fail") =>
        $$"""
        topic: {{topic}}
        table: public.accounts
        mode: upsert
        key: [id]
        delete_on_tombstone: true
        on_error: {{onError}}
        columns:
          id:         { from: value.id, type: bigint }
          balance:    { from: value.balance, type: "numeric(14,2)" }
          version:    { from: value.version, type: bigint }
          src_offset: { from: offset, type: bigint }
        """;

    public int Produced => _log.Sum(p => p.Count);

    /// <summary>The next <paramref name="count"/> changes; about <paramref name="deleteShare"/> of them are tombstones.</summary>
    public List<(int Partition, Message<byte[]?, byte[]?> Message)> Next(int count, double deleteShare = 0.08)
    {
        var messages = new List<(int, Message<byte[]?, byte[]?>)>(count);
        for (var i = 0; i < count; i++)
        {
            long id = _random.Next(accounts);
            var partition = (int)(id % partitions);
            var version = _sequence++;
            var delete = _random.NextDouble() < deleteShare;
            _log[partition].Add((id, delete ? null : version));
            messages.Add((partition, new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes($$"""{"id":{{id}}}"""),
                Value = delete ? null : Encoding.UTF8.GetBytes($$"""{"id":{{id}},"balance":"{{version}}.50","version":{{version}}}"""),
            }));
        }

        return messages;
    }

    /// <summary>id -> version after applying, per partition, the messages below <paramref name="nextOffsets"/> (all when null).</summary>
    public SortedDictionary<long, long> Expected(IReadOnlyDictionary<int, long>? nextOffsets = null)
    {
        var table = new SortedDictionary<long, long>();
        for (var p = 0; p < partitions; p++)
        {
            var upTo = nextOffsets is null ? _log[p].Count : (int)nextOffsets.GetValueOrDefault(p);
            foreach (var (id, version) in _log[p].Take(upTo))
            {
                if (version is { } v)
                {
                    table[id] = v;
                }
                else
                {
                    table.Remove(id);
                }
            }
        }

        return table;
    }

    /// <summary>The table as the sink left it; balance must match its version, or a row mixes two messages.</summary>
    public static async Task<SortedDictionary<long, long>> ActualAsync(SinkTestBed bed)
    {
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM public.accounts WHERE balance <> (version || '.50')::numeric"));
        var rows = await bed.QueryAsync("SELECT id, version FROM public.accounts", r => (r.GetInt64(0), r.GetInt64(1)));
        return new SortedDictionary<long, long>(rows.ToDictionary(r => r.Item1, r => r.Item2));
    }
}
