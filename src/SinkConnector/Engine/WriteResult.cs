using SinkConnector.Schema;

namespace SinkConnector.Engine;

/// <summary>What one batch commit did.</summary>
/// <param name="Committed">Partitions whose rows and next offset are now in the database.</param>
/// <param name="Fenced">Partitions whose claim (the slice's epoch) was no longer current: nothing of theirs was written.</param>
/// <param name="DeadLetters">Conversion failures and rows Postgres rejected, committed with the batch.</param>
public sealed record WriteResult(IReadOnlyList<PartitionSlice> Committed, IReadOnlyList<PartitionSlice> Fenced, int Rows, IReadOnlyList<DeadLetter> DeadLetters);
