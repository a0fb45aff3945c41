using System.Buffers.Binary;

namespace SinkConnector.Mapping.Encodings;

/// <summary>Thrown for Avro binary data that does not match its schema: truncated, an overlong varint, an index out of range.</summary>
internal sealed class AvroDataException(string message) : Exception(message);

/// <summary>
/// Reads Avro's binary encoding (zig-zag varints, length-prefixed bytes, little-endian floats) from a span. Every read
/// checks the remaining length, so a payload written with another schema fails with <see cref="AvroDataException"/>.
/// </summary>
internal ref struct AvroBinaryReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    public readonly int Remaining => _data.Length - _position;

    /// <summary>Bytes read so far: where the next value starts in the data.</summary>
    public readonly int Position => _position;

    public long ReadLong()
    {
        ulong raw = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _data.Length)
            {
                throw new AvroDataException("the data ends inside a number");
            }

            var b = _data[_position++];
            raw |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return (long)(raw >> 1) ^ -(long)(raw & 1);
            }
        }

        throw new AvroDataException("a number is longer than 10 bytes");
    }

    public int ReadInt()
    {
        var value = ReadLong();
        return value is >= int.MinValue and <= int.MaxValue ? (int)value : throw new AvroDataException($"{value} is out of range for an Avro int");
    }

    public bool ReadBoolean() => Take(1)[0] switch
    {
        0 => false,
        1 => true,
        var b => throw new AvroDataException($"{b} is not an Avro boolean (0 or 1)"),
    };

    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    /// <summary>Avro bytes and string: a length, then that many bytes.</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        var length = ReadLong();
        return length >= 0 && length <= Remaining ? Take((int)length) : throw new AvroDataException($"a length of {length} does not fit the {Remaining} bytes left");
    }

    public ReadOnlySpan<byte> ReadFixed(int size) => Take(size);

    /// <summary>
    /// The item count of the next array or map block (0 ends the list). A negative count is followed by the block's
    /// size in bytes, which a reader that decodes every item does not need.
    /// </summary>
    public long ReadBlockCount()
    {
        var count = ReadLong();
        if (count < 0)
        {
            count = count == long.MinValue ? throw new AvroDataException("invalid block count") : -count;
            _ = ReadLong();
        }

        // Each item takes at least one byte, except null items, which take none: bound them by what a message can hold.
        return count <= Math.Max(Remaining, 0) + 1_000_000 ? count : throw new AvroDataException($"a block of {count} items cannot fit the {Remaining} bytes left");
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > Remaining)
        {
            throw new AvroDataException($"the data ends early: {count} more bytes expected, {Remaining} left");
        }

        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }
}
