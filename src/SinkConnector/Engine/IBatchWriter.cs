using Microsoft.EntityFrameworkCore;

namespace SinkConnector.Engine;

/// <summary>
/// The engine's writer: turns a batch's messages into database changes inside the transaction the engine opens,
/// fences and commits (<see cref="BatchTransaction"/>). The COPY/upsert writer of <c>sink run</c> is one.
/// </summary>
public interface IBatchWriter
{
    /// <summary>The topics the consumer subscribes to.</summary>
    IReadOnlyCollection<string> Topics { get; }

    /// <summary>A new batch's content (<see cref="WriteBatch.Content"/>).</summary>
    IBatchContent NewContent();

    /// <summary>
    /// Whether a batch holding this topic must not be written while another such batch is: a later transaction does
    /// not see rows the earlier one has not committed (a merge by key would miss them).
    /// </summary>
    bool WritesExclusively(string topic);

    /// <summary>
    /// Once per batch in the write task, before the first attempt: finishes the content (e.g. the last conversions).
    /// Throws <see cref="Failures.SinkStoppedException"/> to stop the sink without writing the batch, or
    /// <see cref="Failures.SchemaRegistryUnavailableException"/> to be called again after a backoff (it must then redo what failed).
    /// </summary>
    Task PrepareAsync(WriteBatch batch, CancellationToken cancellationToken);

    /// <summary>
    /// Whether <see cref="WriteAsync"/> sets <see cref="WriteBatch.Progress"/> before every statement, so that its stage
    /// unchanged for longer than any statement may take means it is stuck and the loop may give up on the write. A writer
    /// that runs code of unbounded duration between statements (library mode's handlers) leaves it false.
    /// </summary>
    bool ReportsProgress => false;

    /// <summary>The context whose connection runs the batch's transaction: rows, dead letters and offsets.</summary>
    DbContext CreateContext();

    /// <summary>
    /// Writes the batch's content inside the open transaction of <paramref name="db"/>. A change Postgres refuses
    /// throws (a data error: SQLSTATE class 22 or 23); the engine then rolls back and calls again with
    /// <paramref name="isolateBadRows"/>, when the refused changes must be returned as dead letters instead.
    /// </summary>
    Task<WrittenRows> WriteAsync(DbContext db, WriteBatch batch, bool isolateBadRows, CancellationToken cancellationToken);
}
