using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace SinkConnector.Postgres;

/// <summary>What one batch commit did.</summary>
/// <param name="Committed">Partitions whose rows and next offset are now in the database.</param>
/// <param name="Fenced">Partitions whose claim was no longer current: nothing of theirs was written.</param>
/// <param name="DeadLetters">Conversion failures and rows Postgres rejected, committed with the batch.</param>
public sealed record WriteResult(IReadOnlyList<PartitionSlice> Committed, IReadOnlyList<TopicPartition> Fenced, int Rows, IReadOnlyList<DeadLetter> DeadLetters);

/// <summary>
/// Step 2 of the protocol: rows of every table, dead letters and the fenced offset updates of one batch go
/// into ONE EF Core transaction, the rows by binary COPY over the same connection.
/// </summary>
public sealed class BatchWriter(SinkDatabase database, OffsetStore offsets)
{
    public async Task<WriteResult> WriteAsync(WriteBatch batch, CancellationToken cancellationToken)
    {
        var fenced = new List<TopicPartition>();
        var isolateBadRows = false;
        while (!batch.IsEmpty)
        {
            await using var db = database.CreateContext();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            var slices = batch.Partitions.Values.ToList();

            // Offsets first: a fenced batch is detected before any row is copied, and the offset rows stay
            // locked until commit, so a concurrent claim waits for this transaction and then sees its result.
            var stale = await offsets.AdvanceAsync(connection, slices, cancellationToken);
            if (stale.Count > 0)
            {
                // Invariant: roll back everything, drop the fenced partitions' data, commit the rest.
                await transaction.RollbackAsync(cancellationToken);
                foreach (var partition in stale)
                {
                    batch.Remove(partition);
                    fenced.Add(partition);
                }

                continue;
            }

            var rows = 0;
            var deadLetters = slices.SelectMany(s => s.DeadLetters).ToList();
            try
            {
                // One COPY (or staged upsert) per mapping. A topic has one mapping, so a mapping's changes are its
                // slices' rows one slice after the other, each in offset order: streamed, not copied into one list
                // (a list per batch is a large-object allocation, and those trigger full GCs).
                foreach (var table in slices.Where(s => s.Rows.Count > 0).GroupBy(s => s.Rows[0].Mapping))
                {
                    var written = await ChangeWriter.WriteAsync(connection, table.Key, table.SelectMany(s => s.Rows), isolateBadRows, cancellationToken);
                    rows += written.Rows;
                    deadLetters.AddRange(written.Rejected.Select(DeadLetters.From));
                }
            }
            catch (Exception e) when (!isolateBadRows && ChangeWriter.IsDataError(e))
            {
                // A row Postgres refuses would fail this batch forever: do it again, isolating the bad rows.
                await transaction.RollbackAsync(cancellationToken);
                isolateBadRows = true;
                continue;
            }

            if (deadLetters.Count > 0)
            {
                await RowCopier.CopyDeadLettersAsync(connection, database.Schema, deadLetters, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return new WriteResult(slices, fenced, rows, deadLetters);
        }

        return new WriteResult([], fenced, 0, []);
    }
}
