using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>
/// Refuses <c>SaveChanges</c> and transaction calls while a handler runs: the consumer saves a batch and its offsets in
/// one transaction, so a handler that saved or committed on its own would commit changes without their offsets.
/// Registered on the app's context (<c>ConfigureDbContext</c>); outside a handler it lets everything through.
/// </summary>
internal sealed class HandlerGuard : ISaveChangesInterceptor, IDbTransactionInterceptor
{
    public static HandlerGuard Instance { get; } = new();

    private static readonly AsyncLocal<GuardedCalls?> s_current = new();

    /// <summary>
    /// Marks the current async flow as the one that calls handlers (a batch attempt), for the flow's lifetime: set once,
    /// not per call, because an <see cref="AsyncLocal{T}"/> change allocates a new execution context and handlers of
    /// plain inserts take a few microseconds each.
    /// </summary>
    public static GuardedCalls Enter()
    {
        var calls = new GuardedCalls();
        s_current.Value = calls;
        return calls;
    }

    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result) =>
        Check("SaveChanges", result);

    public ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Check("SaveChanges", result));

    public InterceptionResult<DbTransaction> TransactionStarting(
        DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result) =>
        Check("BeginTransaction", result);

    public ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(
        DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result,
        CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Check("BeginTransaction", result));

    public InterceptionResult TransactionCommitting(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result) =>
        Check("CommitTransaction", result);

    public ValueTask<InterceptionResult> TransactionCommittingAsync(
        DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Check("CommitTransaction", result));

    public InterceptionResult TransactionRollingBack(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result) =>
        Check("RollbackTransaction", result);

    public ValueTask<InterceptionResult> TransactionRollingBackAsync(
        DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Check("RollbackTransaction", result));

    private static T Check<T>(string operation, T result)
    {
        if (s_current.Value is { Running: { } handler } calls)
        {
            // Recorded before throwing: a handler that catches the exception must not hide the misuse.
            calls.Misuse = $"handler {handler} called {operation}: handlers must not save or commit; the consumer " +
                "saves each batch's changes together with its Kafka offsets, in one transaction";
            throw new InvalidOperationException(calls.Misuse);
        }

        return result;
    }

    /// <summary>The handler calls of one flow: which handler runs now, if one does, and what it did that handlers must not.</summary>
    public sealed class GuardedCalls
    {
        /// <summary>The handler running now; null between calls, when the consumer itself saves and commits.</summary>
        public string? Running { get; private set; }

        public string? Misuse { get; set; }

        public void Begin(string handler)
        {
            Misuse = null;
            Running = handler;
        }

        /// <summary>Ends the call; returns its misuse, if any.</summary>
        public string? End()
        {
            Running = null;
            return Misuse;
        }
    }
}
