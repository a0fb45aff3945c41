namespace SinkConnector.Failures;

/// <summary>The sink stopped on purpose (for example <c>on_error: fail</c>); the message says what to fix.</summary>
public sealed class SinkStoppedException(string message) : Exception(message);
