using System.Runtime.InteropServices;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace SinkConnector.Mapping.Encodings;

/// <summary>
/// The message indexes Confluent's Protobuf wire format puts between the schema id and the payload: which message
/// type of the schema's file the payload is. A zig-zag varint count, then that many zig-zag varint indexes: the
/// first into the file's top-level messages, each next one into the previous message's nested types. A count of 0
/// (the single byte 0) is short for [0], the file's first message.
/// </summary>
internal static class ProtobufMessageIndexes
{
    /// <summary>More levels than any schema nests: a count above it is not a count.</summary>
    public const int MaxCount = 64;

    /// <summary>The message type <paramref name="data"/> names and its payload after the indexes; throws <see cref="ProtobufDataException"/>.</summary>
    public static (MessageDescriptor Message, ReadOnlyMemory<byte> Payload) Read(FileDescriptor file, ReadOnlyMemory<byte> data)
    {
        var (indexes, length) = ReadIndexes(data);
        if (file.MessageTypes.Count == 0)
        {
            throw new ProtobufDataException("the schema's file has no message type");
        }

        IList<MessageDescriptor> candidates = file.MessageTypes;
        MessageDescriptor? message = null;
        foreach (var index in indexes)
        {
            if (index < 0 || index >= candidates.Count)
            {
                throw new ProtobufDataException(
                    $"message index [{string.Join(", ", indexes)}] is not in the schema: {(message is null ? "its file" : message.FullName)} has {candidates.Count} message type(s) at that level");
            }

            message = candidates[index];
            candidates = message.NestedTypes;
        }

        return (message!, data[length..]);
    }

    /// <summary>The indexes (never empty) and the number of bytes they take.</summary>
    public static (int[] Indexes, int Length) ReadIndexes(ReadOnlyMemory<byte> data)
    {
        if (!MemoryMarshal.TryGetArray(data, out var segment))
        {
            segment = new ArraySegment<byte>(data.ToArray());
        }

        try
        {
            var input = new CodedInputStream(segment.Array!, segment.Offset, segment.Count);
            var count = input.ReadSInt32();
            if (count == 0)
            {
                return ([0], Consumed(input, segment));
            }

            if (count < 0 || count > MaxCount)
            {
                throw new ProtobufDataException($"the message-index count {count} is not between 0 and {MaxCount} (is it Confluent's Protobuf wire format?)");
            }

            var indexes = new int[count];
            for (var i = 0; i < count; i++)
            {
                indexes[i] = input.ReadSInt32();
            }

            return (indexes, Consumed(input, segment));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ProtobufDataException($"the message indexes do not decode: {e.Message}");
        }
    }

    // A stream over part of an array counts its position from the array's start.
    private static int Consumed(CodedInputStream input, ArraySegment<byte> segment) => (int)input.Position - segment.Offset;
}
