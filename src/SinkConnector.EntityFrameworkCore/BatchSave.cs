using Microsoft.EntityFrameworkCore;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>
/// The consumer's <c>SaveChanges</c> of a batch's changes. The whole batch's save does not accept the changes
/// (<c>acceptAllChangesOnSuccess: false</c>): its context is discarded after the attempt and the transaction may still
/// roll back (a fence), so marking every tracked entry unchanged is a pass over the batch for nothing. Except when the
/// app's context overrides <c>SaveChangesAsync(CancellationToken)</c> (audit stamps, say): that overload does not run
/// for the other one, so it is called as before.
/// </summary>
internal static class BatchSave<TContext>
    where TContext : DbContext
{
    /// <summary>Whether <typeparamref name="TContext"/> overrides <c>SaveChangesAsync(CancellationToken)</c>.</summary>
    public static bool CallsAppOverride { get; } =
        typeof(TContext).GetMethod(nameof(DbContext.SaveChangesAsync), [typeof(CancellationToken)])?.DeclaringType != typeof(DbContext);

    /// <param name="acceptAllChanges">
    /// True when the context saves again in the same attempt (one save per message while isolating refused changes):
    /// the next save must not write this one's changes again.
    /// </param>
    public static Task<int> SaveAsync(TContext db, bool acceptAllChanges, CancellationToken cancellationToken) =>
        acceptAllChanges || CallsAppOverride
            ? db.SaveChangesAsync(cancellationToken)
            : db.SaveChangesAsync(acceptAllChangesOnSuccess: false, cancellationToken);
}
