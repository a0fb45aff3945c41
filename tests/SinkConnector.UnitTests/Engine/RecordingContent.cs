using Confluent.Kafka;
using SinkConnector.Engine;

namespace SinkConnector.UnitTests.Engine;

/// <summary>A writer's batch content that only records what the loop added, for tests of the engine's bookkeeping.</summary>
internal sealed class RecordingContent : IBatchContent
{
    public List<(PartitionSlice Slice, long Offset, int Bytes)> Added { get; } = [];

    public void Add(PartitionSlice slice, ConsumeResult<byte[]?, byte[]?> message, int bytes) => Added.Add((slice, message.Offset.Value, bytes));
}
