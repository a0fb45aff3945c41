using SinkConnector.Engine;
using SinkConnector.Schema;

namespace SinkConnector.Writing;

/// <summary>What a message became: a row change, a dead letter, the reason to stop (<c>on_error: fail</c>), or nothing (skipped).</summary>
internal readonly record struct ConvertedMessage(PartitionSlice Slice, RowChange? Row, DeadLetter? DeadLetter, string? Stop);
