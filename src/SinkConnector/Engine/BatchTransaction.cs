using Microsoft.EntityFrameworkCore;
using Npgsql;
using SinkConnector.DeadLetters;
using SinkConnector.Failures;
using SinkConnector.Offsets;
using SinkConnector.Schema;

namespace SinkConnector.Engine;

/// <summary>
/// Step 2 of the protocol (docs/exactly-once.md), one attempt at a batch: the writer's rows, the dead letters and the
/// fenced offset updates go into ONE transaction; a fenced partition's share is dropped and the rest committed.
/// </summary>
/// <remarks>
/// Rows first, then the offset check, then commit. Two batches may be in flight (never two that write exclusively:
/// <see cref="WritePipeline"/>): the second writes its rows while the first commits (the benchmark's profile: with one
/// write at a time the loop waited a third of the time for Postgres). Its offset check expects what the first
/// commits, so before the check it waits for the first's transaction to end inside Postgres
/// (<see cref="OffsetStore.AwaitTurnAsync"/>), where the deadlock detector sees the wait should the first in turn wait
/// for a row the second copied (a duplicate key). A check that fails while the predecessor was still running is no
/// fence: the transaction is rolled back and done again once the predecessor has finished. Correctness rests on the
/// offset check alone; the turns only keep it from failing needlessly.
/// </remarks>
public sealed class BatchTransaction(SinkDatabase database, OffsetStore offsets, IBatchWriter writer)
{
    private readonly DeadLetterStore _deadLetters = new(database, offsets.GroupId);

    /// <param name="sequence">This write's number: writes are numbered in the order the loop starts them.</param>
    /// <param name="predecessor">Write <paramref name="sequence"/> - 1 if it may still be running: its next offsets are what this batch expects.</param>
    public async Task<WriteResult> WriteAsync(WriteBatch batch, long sequence, Task? predecessor, CancellationToken cancellationToken)
    {
        var progress = batch.Progress;
        var fenced = new List<PartitionSlice>();
        var isolateBadRows = false;
        for (var pass = 1; !batch.IsEmpty; pass++)
        {
            if (predecessor?.IsCompleted == true)
            {
                predecessor = null;
            }

            progress.Set($"transaction {pass}: opening");
            await using var db = writer.CreateContext();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            var slices = batch.Partitions.Values.ToList();
            progress.Set($"transaction {pass}: taking turn {sequence % 3}");
            await offsets.HoldTurnAsync(connection, sequence, cancellationToken);

            WrittenRows written;
            try
            {
                progress.Set(isolateBadRows ? $"transaction {pass}: data error before, writing rows isolating the bad ones" : $"transaction {pass}: writing rows",
                    bounded: writer.ReportsProgress);
                written = await writer.WriteAsync(db, batch, isolateBadRows, cancellationToken);
            }
            catch (Exception e) when (!isolateBadRows && PostgresErrors.IsDataError(e))
            {
                progress.Set($"transaction {pass}: rolling back after a data error ({((PostgresException)e).SqlState})");
                await transaction.RollbackAsync(cancellationToken);
                if (predecessor is not null)
                {
                    // A foreign key into a row the predecessor wrote but has not committed fails at once (Postgres
                    // does not wait for it): parents and children of one topic often land in consecutive batches.
                    // Not a bad row while the predecessor ran during this pass, even if it has ended since: its commit
                    // may have come just after the refused statement (isolating then put every row of the batch under
                    // savepoints for nothing). WhenAny: its failure is the loop's to handle.
                    progress.Set($"transaction {pass}: rolled back after a data error, waiting for write {sequence - 1} to end");
                    await Task.WhenAny(predecessor);
                    predecessor = null;
                    continue;
                }

                // A row Postgres refuses would fail this batch forever: do it again, isolating the bad rows.
                isolateBadRows = true;
                continue;
            }

            if (predecessor is not null)
            {
                progress.Set($"transaction {pass}: waiting in Postgres for write {sequence - 1}'s transaction to end");
                await offsets.AwaitTurnAsync(connection, sequence - 1, cancellationToken);
            }

            // The offset rows stay locked until commit, so a concurrent claim waits for this transaction and then
            // sees its result; a claim that came first has moved the epoch, and the check fails (the rows copied
            // for nothing are the price of a rebalance, against a second batch's COPY overlapping the first's commit).
            progress.Set($"transaction {pass}: checking offsets of {slices.Count} partition(s)");
            var stale = await offsets.AdvanceAsync(connection, [.. slices.Select(s => s.Advance)], cancellationToken);
            if (stale.Count > 0)
            {
                progress.Set($"transaction {pass}: rolling back, offsets of {stale.Count} partition(s) not as expected");
                await transaction.RollbackAsync(cancellationToken);
                if (predecessor is not null)
                {
                    // The predecessor had not committed (it failed and retries, or had not yet taken its turn): not a
                    // fence. WhenAny: only its end matters here; its failure is the loop's to handle.
                    progress.Set($"transaction {pass}: rolled back, offsets not as expected while write {sequence - 1} ran: waiting for it to end");
                    await Task.WhenAny(predecessor);
                    predecessor = null;
                    continue;
                }

                // Invariant: roll back everything, drop the fenced partitions' data, commit the rest.
                foreach (var partition in stale)
                {
                    fenced.Add(batch.Partitions[partition]);
                    batch.Remove(partition);
                }

                continue;
            }

            var deadLetters = slices.SelectMany(s => s.DeadLetters).Concat(written.Rejected).ToList();
            if (deadLetters.Count > 0)
            {
                progress.Set($"transaction {pass}: adding {deadLetters.Count} dead letter(s)");
                await _deadLetters.AddAsync(connection, deadLetters, cancellationToken);
            }

            progress.Set($"transaction {pass}: committing");
            await transaction.CommitAsync(cancellationToken);
            progress.Set($"transaction {pass}: committed");
            return new WriteResult(slices, fenced, written.Rows, deadLetters);
        }

        progress.Set("every partition fenced: nothing to commit");
        return new WriteResult([], fenced, 0, []);
    }
}
