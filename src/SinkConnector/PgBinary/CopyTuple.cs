using System.Buffers.Binary;

namespace SinkConnector.PgBinary;

/// <summary>The fields of one binary COPY tuple (a 16-bit field count, then per field a 32-bit length and its bytes; -1: NULL).</summary>
public static class CopyTuple
{
    /// <summary>Where each field is: its length word and bytes (<c>Start</c>, <c>Length</c>), and whether it is NULL.</summary>
    public static Field[] Split(ReadOnlySpan<byte> tuple)
    {
        var fields = new Field[BinaryPrimitives.ReadInt16BigEndian(tuple)];
        var at = 2;
        for (var i = 0; i < fields.Length; i++)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(tuple[at..]);
            var size = 4 + Math.Max(length, 0);
            fields[i] = new Field(at, size, length < 0);
            at += size;
        }

        return fields;
    }

    public readonly record struct Field(int Start, int Length, bool IsNull);
}
