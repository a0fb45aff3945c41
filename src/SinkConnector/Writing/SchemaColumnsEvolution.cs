using System.Collections.Concurrent;
using Confluent.Kafka;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.Mapping.SchemaColumns;
using SinkConnector.Registry;
using SinkConnector.Schema;

namespace SinkConnector.Writing;

/// <summary>
/// A mapping whose columns came from the schema, as producers register newer schemas: each new writer schema id is
/// compared once with the mapping's columns (<see cref="SchemaEvolution"/>). An optional field it adds becomes a new
/// version of the mapping (<c>auto_evolve</c>) with its converter rebuilt, and its column is added before the next
/// write (<see cref="AddPendingColumnsAsync"/>); a change the table cannot take makes that id's messages dead letters.
/// </summary>
/// <remarks>
/// Chunks convert on the thread pool concurrently: a version is immutable and swapped whole, so a chunk converts each
/// message with one consistent version, and a message of a new id only after the version that knows it is current.
/// A batch may so hold rows of two versions; the writer writes each version's rows with that version's columns.
/// </remarks>
internal sealed class SchemaColumnsEvolution
{
    private readonly SchemaSource _schemas;
    private readonly bool _autoEvolve;
    private readonly Lock _lock = new();

    // Per writer schema id: null when its messages fit the current version (or any later one), else why not.
    private readonly ConcurrentDictionary<int, EvolutionVerdict> _verdicts = new();
    private volatile TopicConversion _current;

    // Columns added by versions after the first, and how many of them the table is known to have.
    private volatile IReadOnlyList<ColumnMapping> _added = [];
    private int _applied;

    public SchemaColumnsEvolution(TopicConversion first, SchemaSource schemas)
    {
        _current = first with { Evolution = this };
        _schemas = schemas;
        var mapping = first.Converter.Mapping;
        _autoEvolve = mapping.AutoEvolve;
        _verdicts[mapping.SchemaColumns!.SchemaId] = new EvolutionVerdict([], null, null);
    }

    public TopicConversion Current => _current;

    /// <summary>The version to convert <paramref name="message"/> with; null with the reason when the table cannot take its schema.</summary>
    /// <exception cref="Failures.SchemaRegistryUnavailableException">The registry did not answer for a new id.</exception>
    public TopicConversion For(ConsumeResult<byte[]?, byte[]?> message, out ConversionError? incompatible)
    {
        incompatible = null;
        if (message.Message.Value is not { } value || !WireFormat.TrySplit(value, out var id, out _, out _))
        {
            // A tombstone, or bytes the decoder will refuse with the reason.
            return _current;
        }

        if (!_verdicts.TryGetValue(id, out var verdict))
        {
            lock (_lock)
            {
                verdict = _verdicts.TryGetValue(id, out var known) ? known : Judge(id);
            }
        }

        if (verdict?.Incompatible is { } reason)
        {
            incompatible = new ConversionError(ConversionErrorKind.IncompatibleSchema, verdict.Field ?? "", reason);
        }

        return _current;
    }

    /// <summary>Under the lock: compares schema <paramref name="id"/> with the current version, evolving it if it adds optional fields.</summary>
    private EvolutionVerdict? Judge(int id)
    {
        var current = _current.Converter.Mapping;
        if (_schemas.Get(id) is not { Type: "AVRO" or "JSON" } schema)
        {
            // Unknown (or of a type columns are not derived from): the decoder dead-letters the message with the reason; nothing to keep.
            return null;
        }

        IReadOnlyList<SchemaField> fields;
        try
        {
            fields = SchemaFields.Of(schema, current.Format);
        }
        catch (FormatException e)
        {
            return _verdicts[id] = new EvolutionVerdict([], $"the message's schema id {id} gives no columns for the table's schema id {current.SchemaColumns!.SchemaId}: {e.Message}", "");
        }

        var verdict = SchemaEvolution.Compare(current, fields, id);
        if (verdict.Incompatible is null && verdict.Added.Count > 0 && _autoEvolve)
        {
            var columns = verdict.Added.Select(SchemaColumnDerivation.AddedColumn).ToList();
            var source = current.SchemaColumns! with
            {
                SchemaId = id,
                Derived = new HashSet<string>(current.SchemaColumns!.Derived.Concat(columns.Select(c => c.Name)), StringComparer.Ordinal),
            };
            var evolved = current with { Columns = [.. current.Columns, .. columns], SchemaColumns = source };
            _added = [.. _added, .. columns];
            // Added columns go last: the kept column positions (upsert key, partition column) stay what they were.
            _current = new TopicConversion(new MessageConverter(evolved, _schemas), _current.Keys, this);
        }

        return _verdicts[id] = verdict;
    }

    /// <summary>
    /// Adds the columns of versions newer than what the table is known to have, in a transaction of their own, before
    /// the write that may need them (<c>ADD COLUMN IF NOT EXISTS</c>: another replica may have added them first).
    /// </summary>
    public async Task AddPendingColumnsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var added = _added;
        var applied = Volatile.Read(ref _applied);
        if (added.Count == applied)
        {
            return;
        }

        var table = _current.Converter.Mapping.Table;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var column in added.Skip(applied))
        {
            await using var command = new NpgsqlCommand(
                $"ALTER TABLE {Sql.Quote(table)} ADD COLUMN IF NOT EXISTS {Sql.Quote(column.Name)} {column.Type.SqlName}", connection, transaction);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        InterlockedMax(ref _applied, added.Count);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        for (var seen = Volatile.Read(ref target); seen < value; seen = Volatile.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, seen) == seen)
            {
                return;
            }
        }
    }
}
