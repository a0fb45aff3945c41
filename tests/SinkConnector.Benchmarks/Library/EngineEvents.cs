using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace SinkConnector.Benchmarks.Library;

/// <summary>
/// The in-process counterpart of the sink's log that <see cref="Scenarios.SinkEndToEnd"/> parses: a logger provider
/// that sees the engine's own events (1001 Claimed, 1006 Committed batch with its messages and milliseconds) as they
/// happen, so library mode's window and commit latencies are measured exactly like the sink's.
/// </summary>
public sealed class EngineEvents : ILoggerProvider, ILogger
{
    private const int ClaimedEvent = 1001;
    private const int BatchCommittedEvent = 1006;

    private readonly Lock _lock = new();
    private readonly List<double> _commitMilliseconds = [];
    private readonly List<string> _errors = [];
    private readonly Action _onFirstClaim;
    private readonly Action<long> _onCommitted;
    private long _committed;

    /// <param name="onFirstClaim">Called on the polling thread at the first claim.</param>
    /// <param name="onCommitted">Called after each committed batch with the messages committed so far.</param>
    public EngineEvents(Action onFirstClaim, Action<long> onCommitted)
    {
        _onFirstClaim = onFirstClaim;
        _onCommitted = onCommitted;
    }

    /// <summary>Stopwatch timestamp of the first claim; 0 until then.</summary>
    public long FirstClaim { get; private set; }

    public IReadOnlyList<double> CommitMilliseconds
    {
        get
        {
            lock (_lock)
            {
                return [.. _commitMilliseconds];
            }
        }
    }

    /// <summary>Errors and critical messages logged by the consumer: why it stopped, if it did.</summary>
    public string Errors
    {
        get
        {
            lock (_lock)
            {
                return string.Join("\n", _errors);
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id == ClaimedEvent && FirstClaim == 0)
        {
            FirstClaim = Stopwatch.GetTimestamp();
            _onFirstClaim();
        }
        else if (eventId.Id == BatchCommittedEvent && state is IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            long committed;
            lock (_lock)
            {
                _commitMilliseconds.Add(Convert.ToDouble(Value(values, "ElapsedMs"), System.Globalization.CultureInfo.InvariantCulture));
                committed = _committed += Convert.ToInt64(Value(values, "Messages"), System.Globalization.CultureInfo.InvariantCulture);
            }

            _onCommitted(committed);
        }
        else if (logLevel >= LogLevel.Error)
        {
            lock (_lock)
            {
                _errors.Add(formatter(state, exception));
            }
        }
    }

    public void Dispose()
    {
    }

    private static object? Value(IReadOnlyList<KeyValuePair<string, object?>> values, string name) =>
        values.First(v => v.Key == name).Value;
}
