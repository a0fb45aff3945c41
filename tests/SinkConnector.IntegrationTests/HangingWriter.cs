using Microsoft.EntityFrameworkCore;
using SinkConnector.Engine;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// The sink's real writer, except that one call of <see cref="WriteAsync"/> waits for something that never comes
/// until the test releases it: a write stuck in the process, inside its open transaction (its turn taken), as the
/// stall of the kill tests looked from Postgres (the sink's backends idle, nothing more sent).
/// </summary>
internal sealed class HangingWriter(IBatchWriter inner, int hangAtCall) : IBatchWriter
{
    private readonly TaskCompletionSource _hung = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Exception?> _resumedWriteEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _calls;

    /// <summary>Completes when the hanging call has started waiting.</summary>
    public Task Hung => _hung.Task;

    /// <summary>What the released call ended with (null: it wrote its rows), once it has.</summary>
    public Task<Exception?> ResumedWriteEnded => _resumedWriteEnded.Task;

    /// <summary>Lets the hanging call go on writing its rows into its (by then abandoned) transaction.</summary>
    public void Release() => _release.TrySetResult();

    public IReadOnlyCollection<string> Topics => inner.Topics;

    public IBatchContent NewContent() => inner.NewContent();

    public bool WritesExclusively(string topic) => inner.WritesExclusively(topic);

    public bool ReportsProgress => inner.ReportsProgress;

    public Task PrepareAsync(WriteBatch batch, CancellationToken cancellationToken) => inner.PrepareAsync(batch, cancellationToken);

    public DbContext CreateContext() => inner.CreateContext();

    public async Task<WrittenRows> WriteAsync(DbContext db, WriteBatch batch, bool isolateBadRows, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _calls) != hangAtCall)
        {
            return await inner.WriteAsync(db, batch, isolateBadRows, cancellationToken);
        }

        _hung.TrySetResult();
        await _release.Task;
        try
        {
            var written = await inner.WriteAsync(db, batch, isolateBadRows, cancellationToken);
            _resumedWriteEnded.TrySetResult(null);
            return written;
        }
        catch (Exception e)
        {
            _resumedWriteEnded.TrySetResult(e);
            throw;
        }
    }
}
