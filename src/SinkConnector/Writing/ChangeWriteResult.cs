namespace SinkConnector.Writing;

/// <summary>What writing one mapping's changes did: rows written (after upsert de-duplication) and changes refused.</summary>
public sealed record ChangeWriteResult(int Rows, IReadOnlyList<RejectedChange> Rejected);
