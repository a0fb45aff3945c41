using System.Buffers.Binary;

namespace SinkConnector.PgBinary;

/// <summary>Encoded tuples back to back in one growing array: no object per row for the garbage collector to trace.</summary>
/// <remarks>
/// The array is not zeroed: only bytes already written are ever read (a reserved length is filled in before the row
/// ends, a failed row is truncated away). The sink allocates about twice its message bytes in these buffers, and
/// zeroing them was part of the memset that, with the page faults under it, took a sixth of the sink's CPU
/// (eng/bench.sh --perf).
/// </remarks>
public sealed class CopyBuffer
{
    private byte[] _bytes;

    public CopyBuffer(int capacity = 4096) => _bytes = GC.AllocateUninitializedArray<byte>(capacity);

    /// <summary>Writes into <paramref name="bytes"/> (a reused array) from its start; grows out of it like any other.</summary>
    public CopyBuffer(byte[] bytes) => _bytes = bytes;

    /// <summary>The array written to now: the one given, or a larger one once it grew.</summary>
    internal byte[] Array => _bytes;

    public int Length { get; private set; }

    public ReadOnlyMemory<byte> WrittenMemory => _bytes.AsMemory(0, Length);

    /// <summary>Room for at least <paramref name="size"/> more bytes; <see cref="Advance"/> says how many were used.</summary>
    public Span<byte> GetSpan(int size)
    {
        if (_bytes.Length - Length < size)
        {
            var larger = GC.AllocateUninitializedArray<byte>(Math.Max(_bytes.Length * 2, Length + size));
            _bytes.AsSpan(0, Length).CopyTo(larger);
            _bytes = larger;
        }

        return _bytes.AsSpan(Length);
    }

    public void Advance(int count)
    {
        GetSpan(count);
        Length += count;
    }

    public void Write(byte value)
    {
        GetSpan(1)[0] = value;
        Length++;
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        Length += bytes.Length;
    }

    /// <summary>Big-endian, as the binary COPY format's integers are.</summary>
    public void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(GetSpan(2), value);
        Length += 2;
    }

    /// <inheritdoc cref="WriteInt16"/>
    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(GetSpan(4), value);
        Length += 4;
    }

    /// <inheritdoc cref="WriteInt16"/>
    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(GetSpan(8), value);
        Length += 8;
    }

    /// <summary>Bytes already written, to fill in a length reserved before its value.</summary>
    public Span<byte> Written(int start, int length) => _bytes.AsSpan(start, length);

    public void Clear() => Length = 0;

    /// <summary>Forgets what was written after <paramref name="length"/> (a row that failed half-way).</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Length);
        Length = length;
    }
}
