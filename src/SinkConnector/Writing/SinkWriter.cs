using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Engine;
using SinkConnector.Observability;
using SinkConnector.Registry;
using SinkConnector.Schema;

namespace SinkConnector.Writing;

/// <summary>
/// The writer of <c>sink run</c>: messages become rows by the mappings (converted while the batch fills), written per
/// mapping by binary COPY (mode insert) or a staged merge (mode upsert) in the engine's transaction.
/// </summary>
public sealed class SinkWriter : IBatchWriter
{
    private readonly SinkDatabase _database;
    private readonly BatchConverter _converter;
    private readonly PartitionMaintainer _partitions;

    // Topics of mode upsert: two batches that both hold upserts never overlap. The later one's DELETE does not see
    // (and so misses) a row the earlier one inserted but has not committed: a tombstone would be lost (found by
    // WriteModeTests.Several_mappings...). Their merges of the same keys would also deadlock.
    private readonly HashSet<string> _upsertTopics;
    private readonly TopicPattern[] _upsertPatterns;
    private readonly ConcurrentDictionary<string, bool> _matchedUpsertTopics = new(StringComparer.Ordinal);
    private readonly TopicTables _topicTables;

    /// <param name="schemas">The schema registry, for mappings whose keys or values are registry-encoded.</param>
    /// <param name="metrics">Counts the messages no mapping took.</param>
    public SinkWriter(IReadOnlyList<MappingConfig> mappings, SinkDatabase database, SchemaSource? schemas = null, SinkMetrics? metrics = null)
    {
        _database = database;
        _converter = new BatchConverter(mappings, schemas, metrics);
        _partitions = new PartitionMaintainer(mappings, TimeProvider.System);
        _upsertTopics = [.. mappings.Where(m => m.Mode == WriteMode.Upsert).SelectMany(m => m.Topics)];
        _upsertPatterns = [.. mappings.Where(m => m.Mode == WriteMode.Upsert).Select(m => m.TopicsRegex).OfType<TopicPattern>()];
        _topicTables = new TopicTables(database.DataSource);
        Topics = [.. _converter.Subscriptions.Order(StringComparer.Ordinal)];
    }

    public IReadOnlyCollection<string> Topics { get; }

    public IBatchContent NewContent() => _converter.NewBatch();

    /// <summary>Every statement sets the batch's progress (<see cref="ChangeWriter"/>, <see cref="UpsertWriter"/>).</summary>
    public bool ReportsProgress => true;

    public bool WritesExclusively(string topic) =>
        _upsertTopics.Contains(topic) || (_upsertPatterns.Length > 0 && _matchedUpsertTopics.GetOrAdd(topic, t => _upsertPatterns.Any(p => p.Match(t) is not null)));

    public Task PrepareAsync(WriteBatch batch, CancellationToken cancellationToken) => ((ConvertedBatch)batch.Content).CompleteAsync(batch);

    public DbContext CreateContext() => _database.CreateContext();

    public async Task<WrittenRows> WriteAsync(DbContext db, WriteBatch batch, bool isolateBadRows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(batch);
        var progress = batch.Progress;
        // Before the batch's rows and in a transaction of its own: creating a partition locks its parent table.
        progress.Set("writing rows: making sure of the table partitions ahead");
        await _partitions.EnsureAsync(_database.DataSource, cancellationToken);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var content = (ConvertedBatch)batch.Content;
        var rows = 0;
        var rejected = new List<DeadLetter>();
        foreach (var evolution in _converter.Evolutions)
        {
            // Columns a newer schema added (auto_evolve), committed on their own before rows that fill them.
            progress.Set("writing rows: adding columns newer schemas brought");
            await evolution.AddPendingColumnsAsync(_database.DataSource, cancellationToken);
        }

        // One COPY (or staged upsert) per mapping, in write order (parents before children: foreign keys hold).
        var slices = batch.Partitions.Values.Select(content.RowsOf).Where(r => r.Count > 0).ToList();
        var runs = MappingRuns.Of(slices, _converter.SlicesMixMappings).ToList();
        foreach (var mapping in runs.Select(r => r.Mapping).Where(m => m.TableFromTemplate))
        {
            // A topic's first rows into its templated table: created or checked before this batch writes it.
            progress.Set($"writing rows: creating or checking table {mapping.Table} of mapping '{mapping.Name}'");
            await _topicTables.EnsureAsync(mapping, cancellationToken);
        }

        foreach (var (mapping, changes) in runs)
        {
            progress.Set($"writing rows: {(mapping.Mode == WriteMode.Upsert ? "upserting" : "copying")} the rows of mapping '{mapping.Name}' into {mapping.Table}");
            var written = await ChangeWriter.WriteAsync(connection, mapping, changes, isolateBadRows, cancellationToken, progress);
            rows += written.Rows;
            rejected.AddRange(written.Rejected.Select(r => r.ToDeadLetter()));
        }

        return new WrittenRows(rows, rejected);
    }
}
