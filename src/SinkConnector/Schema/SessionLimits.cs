using System.Globalization;
using System.Text.RegularExpressions;

namespace SinkConnector.Schema;

/// <summary>
/// The server-side limits the sink sets on every session (<see cref="SinkDatabase"/>): a frozen owner's transaction
/// must not keep its offset rows locked, nor a statement wait forever. Options in the connection string come later and win.
/// </summary>
public static partial class SessionLimits
{
    public static readonly TimeSpan DefaultIdleInTransactionTimeout = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan DefaultStatementTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The startup options that set them, ahead of the connection string's own.</summary>
    public static string Options =>
        $"-c idle_in_transaction_session_timeout={DefaultIdleInTransactionTimeout.TotalSeconds}s -c statement_timeout={DefaultStatementTimeout.TotalSeconds}s";

    /// <summary>The <c>statement_timeout</c> that <paramref name="options"/> leave in force: the last one set, else the default.</summary>
    public static TimeSpan StatementTimeout(string? options)
    {
        var last = StatementTimeoutOption().Matches(options ?? "").LastOrDefault();
        if (last is null)
        {
            return DefaultStatementTimeout;
        }

        var value = double.Parse(last.Groups["value"].Value, CultureInfo.InvariantCulture);
        // Postgres's units for time settings; a bare number is milliseconds.
        return last.Groups["unit"].Value switch
        {
            "us" => TimeSpan.FromMicroseconds(value),
            "s" => TimeSpan.FromSeconds(value),
            "min" => TimeSpan.FromMinutes(value),
            "h" => TimeSpan.FromHours(value),
            "d" => TimeSpan.FromDays(value),
            _ => TimeSpan.FromMilliseconds(value),
        };
    }

    [GeneratedRegex(@"statement_timeout\s*=\s*'?(?<value>\d+)\s*(?<unit>us|ms|s|min|h|d)?\b")]
    private static partial Regex StatementTimeoutOption();
}
