using Confluent.Kafka;
using SinkConnector.PgBinary;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.PgBinary;

/// <summary>The conversion chunks' arrays, reused once their batch is written; never shared by two chunks alive at once.</summary>
public sealed class ChunkBuffersTests
{
    private static readonly TopicPartition s_partition = new("orders", 0);

    private static EncodedChunk ChunkWithOneRow(ChunkBuffers buffers, byte tupleByte)
    {
        var chunk = new EncodedChunk(1, 100, buffers);
        chunk.Tuples.Write(tupleByte);
        chunk.Add(0, s_partition, Message("{\"id\": 1}", key: "k"));
        return chunk;
    }

    [Fact]
    public void A_released_chunks_array_is_the_next_chunks_and_the_released_chunk_refuses_to_be_read()
    {
        var buffers = new ChunkBuffers(kept: 4);
        var first = ChunkWithOneRow(buffers, 1);
        var firstRow = new EncodedRow(first, 0);
        Assert.Equal([1], firstRow.Tuple.ToArray());

        first.Release();
        var second = ChunkWithOneRow(buffers, 2);

        Assert.Equal([2], new EncodedRow(second, 0).Tuple.ToArray());
        Assert.Throws<ObjectDisposedException>(() => firstRow.Tuple.ToArray());
        Assert.Throws<ObjectDisposedException>(() => firstRow.Message());
    }

    [Fact]
    public void Releasing_twice_pools_the_array_once_so_two_live_chunks_never_share_it()
    {
        var buffers = new ChunkBuffers(kept: 4);
        var chunk = ChunkWithOneRow(buffers, 1);
        chunk.Release();
        chunk.Release();

        var a = ChunkWithOneRow(buffers, 7);
        var b = ChunkWithOneRow(buffers, 8);

        Assert.Equal([7], new EncodedRow(a, 0).Tuple.ToArray());
        Assert.Equal([8], new EncodedRow(b, 0).Tuple.ToArray());
    }

    [Fact]
    public void Only_arrays_of_the_pooled_size_are_kept_and_no_more_than_the_number_kept()
    {
        var buffers = new ChunkBuffers(kept: 1);
        var pooled = buffers.Rent(100);
        var large = buffers.Rent(ChunkBuffers.ArrayBytes + 1);
        var grown = buffers.Rent(100);
        grown.Advance(ChunkBuffers.ArrayBytes + 1);

        Assert.Equal(ChunkBuffers.ArrayBytes, pooled.Array.Length);
        Assert.Equal(ChunkBuffers.ArrayBytes + 1, large.Array.Length);
        buffers.Return(large);
        buffers.Return(grown);
        buffers.Return(pooled);
        buffers.Return(new CopyBuffer(ChunkBuffers.ArrayBytes));

        Assert.Same(pooled.Array, buffers.Rent(100).Array);
        Assert.Equal(ChunkBuffers.ArrayBytes, buffers.Rent(100).Array.Length);
    }
}
