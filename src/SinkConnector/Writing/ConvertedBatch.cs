using Confluent.Kafka;
using SinkConnector.Engine;
using SinkConnector.Failures;
using SinkConnector.Mapping.Routing;
using SinkConnector.PgBinary;

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
    private readonly BackgroundChunks<ConvertedChunk> _chunks = new();

    // The collected chunks' tuples, which the rows point into until the batch is written.
    private readonly List<EncodedChunk> _encoded = [];

    /// <summary>The batch is done with: its chunks' buffers go back to the converter's pool for later batches.</summary>
    public void Release()
    {
        foreach (var chunk in _encoded)
        {
            chunk.Release();
        }

        _encoded.Clear();
    }

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
    /// The row changes of <paramref name="slice"/> in offset order, of every mapping of its topic (see <see cref="SinkWriter"/>). Keyed by the slice,
    /// not its partition: a partition fenced and claimed again within one batch has a new slice.
    /// </summary>
    public List<RowChange> RowsOf(PartitionSlice slice)
    {
        if (!_rows.TryGetValue(slice, out var rows))
        {
            // Sized for one row per message: grown by doubling, the list copied its (large) row structs several times
            // per batch and left the smaller arrays as garbage (List.Grow was 3 % of the sink's CPU samples).
            rows = new List<RowChange>(slice.Messages);
            _rows.Add(slice, rows);
        }

        return rows;
    }

    /// <summary>
    /// In the write task: converts what is left and puts every chunk's rows and dead letters into their slices, in
    /// offset order (chunks are in consumption order, and a partition is consumed in offset order). A message that
    /// cannot convert becomes a dead letter, or stops the sink (<see cref="SinkStoppedException"/>) under
    /// <c>on_error: fail</c>; then nothing of the batch is written, so the stored offset stays before that message.
    /// When the schema registry does not answer, <see cref="SchemaRegistryUnavailableException"/> passes to the caller,
    /// which calls again later: the chunks collected stay collected, the failed ones convert again.
    /// </summary>
    internal async Task CompleteAsync(WriteBatch batch)
    {
        StartChunk();
        await _chunks.CollectAsync(converted =>
        {
            _encoded.Add(converted.Encoded);
            foreach (var outcome in converted.Outcomes)
            {
                var (slice, row, deadLetter, stop) = outcome;
                if (outcome.Skipped is { } skipped)
                {
                    _converter.Metrics?.Skipped(slice.Partition.Topic, skipped == FilterVerdict.SkipWhen ? "skip_when" : "when");
                }
                else if (row is { } change)
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
        });
    }

    private void StartChunk()
    {
        if (_unconverted.Count == 0)
        {
            return;
        }

        ConsumedMessage[] messages = [.. _unconverted];
        var bytes = _unconvertedBytes;
        _chunks.Start(() => _converter.StartChunk(messages, bytes));
        _unconverted.Clear();
        _unconvertedBytes = 0;
    }
}
