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
        return DeadLetterBuilder.From(Change.Mapping, Change.Source, DeadLetterBuilder.RejectedKind, $"SQLSTATE {Error.SqlState}: {Error.MessageText}{where}");
    }
}
