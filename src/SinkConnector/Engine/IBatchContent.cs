using Confluent.Kafka;

namespace SinkConnector.Engine;

/// <summary>A writer's share of one batch: what it makes of the accepted messages (rows, entities) until the batch is written.</summary>
public interface IBatchContent
{
    /// <summary>
    /// An accepted message of <paramref name="slice"/>, called on the polling thread in consumption order (so per
    /// partition in offset order) with the bytes it counts against <c>batch.max_bytes</c>. Must be quick: work such
    /// as conversion belongs on the thread pool, finished in <see cref="IBatchWriter.PrepareAsync"/>.
    /// </summary>
    void Add(PartitionSlice slice, ConsumeResult<byte[]?, byte[]?> message, int bytes);

    /// <summary>
    /// Called on the polling thread once the batch's write has finished and its result was taken: nothing reads this
    /// content again, so the writer may reuse its buffers for later batches.
    /// </summary>
    void Release()
    {
    }
}
