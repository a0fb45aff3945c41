using SinkConnector.Schema;

namespace SinkConnector.Engine;

/// <summary>What a writer wrote in a batch's transaction: rows, and the dead letters of changes Postgres refused.</summary>
public sealed record WrittenRows(int Rows, IReadOnlyList<DeadLetter> Rejected);
