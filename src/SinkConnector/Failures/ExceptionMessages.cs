using Npgsql;

namespace SinkConnector.Failures;

/// <summary>What an operator reads of a failure: its message chain, without stack traces.</summary>
public static class ExceptionMessages
{
    /// <summary>
    /// The messages of <paramref name="e"/> and its inner exceptions, repeats dropped, joined by
    /// <paramref name="separator"/>. A server error is its SQLSTATE and text, without the statement position and
    /// detail lines Npgsql appends.
    /// </summary>
    public static string Chain(Exception e, string separator)
    {
        var messages = new List<string>();
        for (var current = e; current is not null; current = current.InnerException)
        {
            messages.Add(current is PostgresException postgres ? $"{postgres.SqlState}: {postgres.MessageText}" : current.Message);
        }

        return string.Join(separator, messages.Distinct());
    }
}
