using SinkConnector.Engine;
using SinkConnector.Mapping.Routing;
using SinkConnector.Schema;

namespace SinkConnector.Writing;

/// <summary>What a message became: a row change, a dead letter, the reason to stop (<c>on_error: fail</c>), or nothing (skipped).</summary>
/// <remarks>A message goes to every mapping of its topic that takes it, so it may have one of these per such mapping.</remarks>
internal readonly record struct ConvertedMessage(PartitionSlice Slice, RowChange? Row, DeadLetter? DeadLetter, string? Stop)
{
    /// <summary>Set when no mapping of its topic took the message: which condition left it out (skip_when if any did).</summary>
    public FilterVerdict? Skipped { get; init; }
}
