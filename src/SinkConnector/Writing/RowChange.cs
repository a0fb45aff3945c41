using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;

namespace SinkConnector.Writing;

/// <summary>
/// One message's effect on a mapping's table: values of every column for a write, of the key columns for a delete.
/// The message is kept so that a change Postgres rejects can still become a dead letter with its raw bytes; a
/// write the conversion already encoded keeps its tuple and a copy of the message instead (<see cref="Encoded"/>).
/// </summary>
public readonly record struct RowChange(MappingConfig Mapping, ChangeKind Kind, object?[] Values, ConsumeResult<byte[]?, byte[]?>? Message)
{
    /// <summary>
    /// Set by <see cref="BatchConverter"/>; then <see cref="Message"/> is null and <see cref="Values"/> holds only the key
    /// columns that mode upsert merges by (the others are null), or nothing at all for mode insert.
    /// </summary>
    public EncodedRow? Encoded { get; init; }

    /// <summary>
    /// Per column, whether a write keeps the stored value (Debezium's unavailable-value placeholder; its value or field is
    /// then null); null when it keeps none, which is almost always.
    /// </summary>
    public bool[]? Kept { get; init; }

    /// <summary>A tuple of every column built by merging several writes of one key (<see cref="UpsertFold"/>); written instead of the others.</summary>
    public byte[]? Merged { get; init; }

    /// <summary>A kept-columns array as <see cref="Kept"/> holds it: null when nothing is kept.</summary>
    public static bool[]? AnyKept(bool[]? kept) => kept is not null && Array.IndexOf(kept, true) >= 0 ? kept : null;

    /// <summary>The message this change came from, for its dead letter.</summary>
    public ConsumeResult<byte[]?, byte[]?> Source => Message ?? Encoded!.Value.Message();
}
