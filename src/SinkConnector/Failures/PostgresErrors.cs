using Npgsql;

namespace SinkConnector.Failures;

/// <summary>What a failed database operation means for the one who retries it.</summary>
public enum PostgresFailure
{
    /// <summary>Not a database failure.</summary>
    None,

    /// <summary>The same statement can succeed later (connection lost, failover, deadlock, serialization): retry, never drop.</summary>
    Transient,

    /// <summary>A value or constraint Postgres refused (SQLSTATE classes 22 and 23): the same rows fail again; isolate them.</summary>
    Data,

    /// <summary>Anything else (missing table or privilege, read-only server, syntax): retrying cannot help; an operator must act.</summary>
    Fatal,
}

/// <summary>
/// The one classification of database errors, used by the engine's retries, the writers' isolation of bad rows and
/// the CLI's error messages. Codes from <see cref="PostgresErrorCodes"/>.
/// </summary>
public static class PostgresErrors
{
    public static PostgresFailure Classify(Exception e) =>
        IsTransient(e) ? PostgresFailure.Transient
        : IsDataError(e) ? PostgresFailure.Data
        : IsDatabaseFailure(e) ? PostgresFailure.Fatal
        : PostgresFailure.None;

    /// <summary>Failures that pass: the same statement can succeed later, so the batch is retried, never dropped. Looks through wrappers (EF Core wraps a refused connection).</summary>
    /// <summary>
    /// The server ended a transaction left idle too long (idle_in_transaction_session_timeout): the process was frozen
    /// mid-batch (SIGSTOP, a VM pause). The batch is written again; the offset check fences it if another owner took over.
    /// </summary>
    private const string IdleInTransactionSessionTimeout = "25P03";

    public static bool IsTransient(Exception e) => e switch
    {
        PostgresException p => p.IsTransient || p.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
            or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
            or PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.QueryCanceled or IdleInTransactionSessionTimeout
            || p.SqlState.StartsWith("08", StringComparison.Ordinal),
        NpgsqlException n => n.IsTransient || n.InnerException is IOException or System.Net.Sockets.SocketException or TimeoutException,
        TimeoutException => true,
        _ => e.InnerException is { } inner && IsTransient(inner),
    };

    /// <summary>A rejected value or constraint (the statement's own error, not a wrapped one): retrying cannot help, isolating the rows can.</summary>
    public static bool IsDataError(Exception e) => e is PostgresException { SqlState: [('2'), ('2' or '3'), ..] };

    private static bool IsDatabaseFailure(Exception e) => e is NpgsqlException || e.InnerException is { } inner && IsDatabaseFailure(inner);
}
