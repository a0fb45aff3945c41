using System.Buffers.Binary;

namespace SinkConnector.Registry;

/// <summary>The Confluent Schema Registry wire format: magic byte 0, the schema id as 4 bytes big-endian, the payload.</summary>
public static class WireFormat
{
    public const int HeaderLength = 5;

    /// <summary>Splits <paramref name="bytes"/> into schema id and payload; false with a reason when it is not in this format.</summary>
    public static bool TrySplit(ReadOnlyMemory<byte> bytes, out int schemaId, out ReadOnlyMemory<byte> payload, out string? problem)
    {
        schemaId = 0;
        payload = default;
        var span = bytes.Span;
        if (span.Length < HeaderLength)
        {
            problem = $"{span.Length} bytes are too short for the schema registry wire format (magic byte 0, 4-byte schema id, payload)";
            return false;
        }

        if (span[0] != 0)
        {
            problem = $"the first byte is {span[0]}, not the schema registry wire format's magic byte 0 (was it produced without a registry serializer?)";
            return false;
        }

        schemaId = BinaryPrimitives.ReadInt32BigEndian(span[1..]);
        payload = bytes[HeaderLength..];
        problem = null;
        return true;
    }
}
