using System.Text.Json;
using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.DeadLetters;
using SinkConnector.Mapping;
using SinkConnector.Registry;
using SinkConnector.Schema;
using SinkConnector.Writing;

namespace SinkConnector.Operations;

/// <summary>What a replay did, by dead-letter id.</summary>
/// <param name="Replayed">Written to their tables (or, <paramref name="Skipped"/>, nothing to write) and deleted.</param>
/// <param name="Skipped">The part of <paramref name="Replayed"/> the current mapping skips (a tombstone it ignores).</param>
/// <param name="StillFailing">Kept, with this attempt's error kind and message.</param>
/// <param name="Unmapped">Kept untouched: no mapping of that name is configured any more.</param>
public sealed record ReplayResult(
    IReadOnlyList<long> Replayed, IReadOnlyList<long> Skipped, IReadOnlyList<DeadLetterError> StillFailing, IReadOnlyList<DeadLetter> Unmapped);

/// <summary>
/// Runs dead letters through the current configuration of their mapping, in ONE transaction: rows written, dead
/// letters of written rows deleted, errors of the still failing updated. The selected dead letters stay locked
/// until the commit, so a message is written once even when replays run concurrently.
/// </summary>
public static class DeadLetterReplay
{
    /// <param name="groupId">The connector whose dead letters are replayed: another connector's, in the same schema, are never touched.</param>
    public static async Task<ReplayResult> ReplayAsync(
        SinkDatabase database, string groupId, IReadOnlyList<MappingConfig> mappings, DeadLetterFilter filter, CancellationToken cancellationToken,
        SchemaSource? schemas = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(mappings);
        var store = new DeadLetterStore(database, groupId);
        await using var db = database.CreateContext();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var letters = await store.LockAsync(db, filter, cancellationToken);

        var configured = mappings.ToDictionary(m => m.Name, m => new MessageConverter(m, schemas), StringComparer.Ordinal);
        // Per mapping in order of first appearance; each list keeps the (topic, partition, offset) order of the lock query.
        var changes = new Dictionary<string, List<RowChange>>(StringComparer.Ordinal);
        var idOf = new Dictionary<ConsumeResult<byte[]?, byte[]?>, long>(ReferenceEqualityComparer.Instance);
        var skipped = new List<long>();
        var failing = new List<DeadLetterError>();
        var unmapped = new List<DeadLetter>();
        foreach (var letter in letters)
        {
            if (!configured.TryGetValue(letter.Mapping, out var converter))
            {
                unmapped.Add(letter);
                continue;
            }

            var message = ToConsumeResult(letter);
            var values = new object?[converter.Mapping.Columns.Count];
            var kept = converter.DetectsUnavailable ? new bool[values.Length] : null;
            if (converter.TryConvertChange(message, values, out var kind, kept) is { } error)
            {
                failing.Add(new DeadLetterError(letter.Id, error.Kind.ToString(), error.Message));
            }
            else if (kind == ChangeKind.Skip)
            {
                skipped.Add(letter.Id);
            }
            else
            {
                idOf.Add(message, letter.Id);
                if (!changes.TryGetValue(letter.Mapping, out var list))
                {
                    changes.Add(letter.Mapping, list = []);
                }

                list.Add(new RowChange(converter.Mapping, kind, values, message) { Kept = RowChange.AnyKept(kept) });
            }
        }

        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var replayed = new List<long>(skipped);
        foreach (var list in changes.Values)
        {
            // Replay runs without the startup table check, which reads the element OIDs of enum[] and citext[] columns.
            await ElementOidResolver.FromTableAsync(connection, list[0].Mapping, cancellationToken);
            // Always isolating: a replay is small and rare, and a row Postgres still refuses must not fail the others.
            var written = await ChangeWriter.WriteAsync(connection, list[0].Mapping, list, isolateBadRows: true, cancellationToken);
            var rejected = written.Rejected.Select(r => r.Change.Source).ToHashSet(ReferenceEqualityComparer.Instance);
            foreach (var r in written.Rejected)
            {
                var letter = r.ToDeadLetter();
                failing.Add(new DeadLetterError(idOf[r.Change.Source], letter.ErrorKind, letter.ErrorMessage));
            }

            // An upsert change superseded by a later one for the same key counts as replayed, as it would in a sink batch.
            replayed.AddRange(list.Where(c => !rejected.Contains(c.Source)).Select(c => idOf[c.Source]));
        }

        await DeadLetterStore.DeleteAsync(db, replayed, cancellationToken);
        await store.UpdateErrorsAsync(db, failing, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        replayed.Sort();
        skipped.Sort();
        return new ReplayResult(replayed, skipped, [.. failing.OrderBy(f => f.Id)], unmapped);
    }

    /// <summary>The Kafka message a dead letter was made from, as the sink consumed it (the inverse of <see cref="DeadLetters"/>).</summary>
    public static ConsumeResult<byte[]?, byte[]?> ToConsumeResult(DeadLetter letter)
    {
        ArgumentNullException.ThrowIfNull(letter);
        return new ConsumeResult<byte[]?, byte[]?>
        {
            Topic = letter.Topic,
            Partition = new Partition(letter.Partition),
            Offset = new Offset(letter.Offset),
            Message = new Message<byte[]?, byte[]?>
            {
                Key = letter.Key,
                Value = letter.Value,
                Headers = ToHeaders(letter.Headers),
                // Whether it was create or log-append time is not kept; the sink reads only the time.
                Timestamp = letter.KafkaTimestamp is { } time ? new Timestamp(time.UtcDateTime, TimestampType.CreateTime) : Timestamp.Default,
            },
        };
    }

    /// <summary>The headers column (a JSON array of <c>{"key": ..., "value": base64 or null}</c>) as Kafka headers, in order.</summary>
    public static Headers ToHeaders(string? json)
    {
        var headers = new Headers();
        if (json is null)
        {
            return headers;
        }

        using var document = JsonDocument.Parse(json);
        foreach (var header in document.RootElement.EnumerateArray())
        {
            var value = header.GetProperty("value");
            headers.Add(header.GetProperty("key").GetString()!, value.ValueKind == JsonValueKind.Null ? null : value.GetBytesFromBase64());
        }

        return headers;
    }
}
