using System.Globalization;
using Npgsql;
using SinkConnector.DeadLetters;
using SinkConnector.Schema;

namespace SinkConnector.Writing;

/// <summary>A change Postgres refused (SQLSTATE class 22 data exception or 23 integrity violation).</summary>
public sealed record RejectedChange(RowChange Change, PostgresException Error)
{
    /// <summary>The dead letter of the refused change: its message, with the server's reason.</summary>
    public DeadLetter ToDeadLetter()
    {
        var where = Error.ConstraintName is { } constraint ? $" (constraint {constraint})" : Error.ColumnName is { } column ? $" (column {column})" : "";
        var reason = IsOutsidePartitions ? OutsidePartitionsReason() : $"SQLSTATE {Error.SqlState}: {Error.MessageText}{where}";
        return DeadLetterBuilder.From(Change.Mapping, Change.Source, DeadLetterBuilder.RejectedKind, reason);
    }

    /// <summary>
    /// "no partition of relation ... found for row": a check violation with no constraint, raised when routing a row
    /// into a partitioned table (a CHECK constraint's violation always names the constraint).
    /// </summary>
    public bool IsOutsidePartitions => Error is { SqlState: PostgresErrorCodes.CheckViolation, ConstraintName: null, TableName: not null };

    private string OutsidePartitionsReason()
    {
        var table = Error.SchemaName is { } schema ? $"{schema}.{Error.TableName}" : Error.TableName;
        string value;
        if (Change.Mapping.Partition is { } spec && Change.Mapping.Columns.ToList().FindIndex(c => c.Name == spec.By) is var i and >= 0
            && i < Change.Values.Length)
        {
            value = $"{spec.By} = {Show(Change.Values[i])}";
        }
        else
        {
            // A table partitioned by hand: its key columns are the server's to name (Detail, when the connection
            // string has Include Error Detail; Npgsql redacts it otherwise).
            value = Error.Detail is { } detail && !detail.StartsWith("Detail redacted", StringComparison.Ordinal) ? detail : "its partition key";
        }

        return $"no partition of {table} accepts the row: {value} (SQLSTATE 23514: {Error.MessageText}). " +
               "Create a partition (or a DEFAULT partition) for it, then replay the dead letter";
    }

    private static string Show(object? value) => value switch
    {
        null => "NULL",
        DateTime t => t.ToString(t.Kind == DateTimeKind.Utc ? "yyyy-MM-dd'T'HH:mm:ss.FFFFFF'Z'" : "yyyy-MM-dd'T'HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
