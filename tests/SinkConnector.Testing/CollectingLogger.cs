using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace SinkConnector.Testing;

/// <summary>Keeps every log line (Information and above) in memory, for tests that run the engine in their own process.</summary>
public sealed class CollectingLogger : ILoggerProvider, ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IEnumerable<string> Lines => _lines;

    /// <summary>The lines so far, one per line, each with its time, level and event id.</summary>
    public string Text => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        // The exception too, as a console logger prints it: tests check that some failures are logged without a stack trace.
        _lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} [{eventId.Id}] {formatter(state, exception)}" +
            (exception is null ? "" : $"\n{exception}"));
    }

    public void Dispose()
    {
    }
}
