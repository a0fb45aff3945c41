using Microsoft.Extensions.Logging;
using SinkConnector.Observability;
using SinkConnector.Schema;

namespace SinkConnector.Engine;

/// <summary>
/// Beside a commit stall (event 1030): what this sink's Postgres backends are doing (event 1033), read in the background
/// so the loop keeps polling. One read at a time: several partitions stall at once, and one picture covers them all.
/// </summary>
internal sealed class BackendsReport(SinkDatabase database, ILogger logger)
{
    // Connecting and reading must not wait as long as the stall they explain.
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(5);

    private Task _reading = Task.CompletedTask;

    /// <summary>The read in progress (tests wait for its log lines).</summary>
    internal Task Reading => _reading;

    public void Start()
    {
        if (_reading.IsCompleted)
        {
            _reading = Task.Run(ReportAsync);
        }
    }

    private async Task ReportAsync()
    {
        IReadOnlyList<BackendActivity> backends;
        try
        {
            backends = await BackendActivities.ReadAsync(database.ConnectionString, database.ApplicationName, s_timeout, CancellationToken.None);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
        {
            Log.BackendsUnknown(logger, database.ApplicationName, TerminalText.Escape(e.Message));
            return;
        }

        if (backends.Count == 0)
        {
            Log.NoBackends(logger, database.ApplicationName);
        }

        foreach (var b in backends)
        {
            Log.Backend(logger, database.ApplicationName, b.Pid, b.State ?? "-", b.WaitEventType ?? "-", b.WaitEvent ?? "-", b.QueryStart, b.TransactionStart,
                b.BlockedBy.Length == 0 ? "none" : string.Join(", ", b.BlockedBy), TerminalText.Escape(b.Query ?? ""));
        }
    }
}
