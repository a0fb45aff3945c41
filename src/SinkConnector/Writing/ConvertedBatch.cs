using Confluent.Kafka;
using SinkConnector.Engine;
using SinkConnector.Failures;

namespace SinkConnector.Writing;

/// <summary>
/// The sink writer's share of a batch: accepted messages are converted on the thread pool a chunk at a time while the
/// batch fills (<see cref="BatchConverter"/>); <see cref="CompleteAsync"/> collects the row changes per slice.
/// </summary>
public sealed class ConvertedBatch : IBatchContent
{
    private readonly BatchConverter _converter;
    private readonly List<ConsumedMessage> _unconverted = [];
    private readonly Dictionary<PartitionSlice, List<RowChange>> _rows = [];

    // Message bytes of _unconverted (RowSize).
    private int _unconvertedBytes;

    internal ConvertedBatch(BatchConverter converter) => _converter = converter;

    // Conversions started on the thread pool, in consumption order.
    private readonly List<Task<ConvertedMessage[]>> _chunks = [];

    public void Add(PartitionSlice slice, ConsumeResult<byte[]?, byte[]?> message, int bytes)
    {
        _unconverted.Add(new ConsumedMessage(slice, message));
        _unconvertedBytes += bytes;
        if (BatchConverter.FillsChunk(_unconverted.Count, _unconvertedBytes))
        {
            StartChunk();
        }
    }

    /// <summary>
    /// The row changes of <paramref name="slice"/> in offset order (all of its topic's one mapping). Keyed by the slice,
    /// not its partition: a partition fenced and claimed again within one batch has a new slice.
    /// </summary>
    public List<RowChange> RowsOf(PartitionSlice slice)
    {
        if (!_rows.TryGetValue(slice, out var rows))
        {
            rows = [];
            _rows.Add(slice, rows);
        }

        return rows;
    }

    /// <summary>
    /// In the write task: converts what is left and puts every chunk's rows and dead letters into their slices, in
    /// offset order (chunks are in consumption order, and a partition is consumed in offset order). A message that
    /// cannot convert becomes a dead letter, or stops the sink (<see cref="SinkStoppedException"/>) under
    /// <c>on_error: fail</c>; then nothing of the batch is written, so the stored offset stays before that message.
    /// </summary>
    internal async Task CompleteAsync(WriteBatch batch)
    {
        StartChunk();
        foreach (var chunk in _chunks)
        {
            foreach (var (slice, row, deadLetter, stop) in await chunk)
            {
                if (row is { } change)
                {
                    RowsOf(slice).Add(change);
                }
                else if (deadLetter is not null)
                {
                    slice.DeadLetters.Add(deadLetter);
                }
                else if (stop is not null && batch.Partitions.GetValueOrDefault(slice.Partition) == slice)
                {
                    // Only for a partition still in the batch: a revoked one is its next owner's to stop on.
                    throw new SinkStoppedException(stop);
                }
            }
        }

        _chunks.Clear();
    }

    private void StartChunk()
    {
        if (_unconverted.Count == 0)
        {
            return;
        }

        _chunks.Add(_converter.StartChunk([.. _unconverted], _unconvertedBytes));
        _unconverted.Clear();
        _unconvertedBytes = 0;
    }
}
