using System.Collections.Concurrent;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Failures;

namespace SinkConnector.Writing;

/// <summary>
/// The tables a table template renders, prepared the first time a batch writes to one: created (<c>auto_create</c>)
/// or evolved (<c>auto_evolve</c>) in a transaction of their own before the batch's, then checked like the startup
/// check does for fixed tables. A table that is missing or does not fit stops the sink with what to fix, as a
/// missing fixed table does at startup: writing on would fail every batch with the same error.
/// </summary>
internal sealed class TopicTables(NpgsqlDataSource dataSource)
{
    // One preparation per table, shared by both writes in flight; a failed one is forgotten so the next batch retries.
    private readonly ConcurrentDictionary<TableName, Lazy<Task>> _prepared = new();

    public async Task EnsureAsync(MappingConfig mapping, CancellationToken cancellationToken)
    {
        var preparation = _prepared.GetOrAdd(mapping.Table, _ => new Lazy<Task>(() => PrepareAsync(mapping, cancellationToken)));
        try
        {
            await preparation.Value;
        }
        catch
        {
            _prepared.TryRemove(KeyValuePair.Create(mapping.Table, preparation));
            throw;
        }
    }

    private async Task PrepareAsync(MappingConfig mapping, CancellationToken cancellationToken)
    {
        if (mapping.AutoCreate || mapping.AutoEvolve)
        {
            await TableManager.ApplyAsync(dataSource, [mapping], TableManager.IsAutomatic, cancellationToken);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var problems = await TableInspector.CheckAsync(connection, mapping, cancellationToken);
        if (problems.Count > 0)
        {
            var topic = mapping.Topics[0];
            throw new SinkStoppedException(
                $"topic {topic} maps to table {mapping.Table} by the table template of mapping '{mapping.Name}' ({mapping.File}), which cannot take its rows: " +
                string.Join("; ", problems.Select(p => p.Reason)) +
                ". Create the table (`sink tables apply` creates it once the topic exists) or set auto_create: true; the sink stops so that nothing of the topic is skipped.");
        }
    }
}
