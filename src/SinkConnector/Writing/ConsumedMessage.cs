using Confluent.Kafka;
using SinkConnector.Engine;

namespace SinkConnector.Writing;

/// <summary>A message the loop accepted into a batch, waiting for its conversion chunk.</summary>
internal readonly record struct ConsumedMessage(PartitionSlice Slice, ConsumeResult<byte[]?, byte[]?> Message);
