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

    private static readonly AsyncLocal<HandlerCall?> s_current = new();

    /// <summary>Marks the current async flow as running <paramref name="handler"/> until the call is disposed.</summary>
    public static HandlerCall Enter(string handler)
    {
        var call = new HandlerCall(handler);
        s_current.Value = call;
        return call;
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
        if (s_current.Value is { IsRunning: true } call)
        {
            // Recorded before throwing: a handler that catches the exception must not hide the misuse.
            call.Misuse = $"handler {call.Handler} called {operation}: handlers must not save or commit; the consumer " +
                "saves each batch's changes together with its Kafka offsets, in one transaction";
            throw new InvalidOperationException(call.Misuse);
        }

        return result;
    }

    /// <summary>One handler call in progress; <see cref="Misuse"/> says what it did that handlers must not.</summary>
    public sealed class HandlerCall(string handler) : IDisposable
    {
        public string Handler { get; } = handler;

        public bool IsRunning { get; private set; } = true;

        public string? Misuse { get; set; }

        public void Dispose() => IsRunning = false;
    }
}
