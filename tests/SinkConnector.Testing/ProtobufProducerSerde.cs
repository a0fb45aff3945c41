using System.Buffers.Binary;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace SinkConnector.Testing;

/// <summary>
/// Writes Protobuf messages the way Confluent's ProtobufSerializer does, for a registry (the stand-in): the schema
/// registered under the topic's subject (TopicNameStrategy) with its imports as references, and the wire format.
/// The payload is Google's own serializer's (generated classes); the framing (magic byte 0, the 4-byte schema id,
/// the message indexes) is the one piece written by hand here, because no Confluent Protobuf serdes package is served.
/// </summary>
public sealed class ProtobufProducerSerde(SchemaRegistryStandIn registry)
{
    public byte[] Value(string topic, IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Frame(registry.RegisterProtobuf($"{topic}-value", message.Descriptor.File), message);
    }

    public byte[] Key(string topic, IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Frame(registry.RegisterProtobuf($"{topic}-key", message.Descriptor.File), message);
    }

    /// <summary>The wire format of <paramref name="message"/> under <paramref name="schemaId"/>.</summary>
    public static byte[] Frame(int schemaId, IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return [.. Header(schemaId, MessageIndexes(message.Descriptor)), .. message.ToByteArray()];
    }

    /// <summary>Magic byte, schema id and <paramref name="indexes"/>: [0] as the single byte 0, else a zig-zag count and zig-zag indexes.</summary>
    public static byte[] Header(int schemaId, IReadOnlyList<int> indexes)
    {
        ArgumentNullException.ThrowIfNull(indexes);
        using var buffer = new MemoryStream();
        buffer.WriteByte(0);
        Span<byte> id = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(id, schemaId);
        buffer.Write(id);
        var output = new CodedOutputStream(buffer, leaveOpen: true);
        if (indexes is [0])
        {
            output.WriteSInt32(0);
        }
        else
        {
            output.WriteSInt32(indexes.Count);
            foreach (var index in indexes)
            {
                output.WriteSInt32(index);
            }
        }

        output.Flush();
        return buffer.ToArray();
    }

    /// <summary>Where <paramref name="message"/> is in its file: its index among the top-level messages, then among each parent's nested types.</summary>
    public static IReadOnlyList<int> MessageIndexes(MessageDescriptor message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var indexes = new List<int>();
        for (var type = message; type is not null; type = type.ContainingType)
        {
            indexes.Insert(0, type.Index);
        }

        return indexes;
    }
}
