namespace SinkConnector.Failures;

/// <summary>
/// The schema registry did not answer (connection refused, timeout, 5xx from every URL): like a Postgres outage, the
/// messages are fine and must be retried later, never dead-lettered.
/// </summary>
public sealed class SchemaRegistryUnavailableException(string message, Exception inner) : Exception(message, inner);
