using SinkConnector.Registry;

namespace SinkConnector.Mapping.Encodings;

/// <summary>
/// A Protobuf key or value in Confluent's wire format (after the schema id: the message indexes, then the payload)
/// as the JSON the converters read (<see cref="ProtobufJsonWriter"/>), with its schema built from the registry's
/// serialized descriptors once per id (<see cref="ProtobufSchemaEntry"/>).
/// </summary>
internal static class ProtobufPayloadDecoder
{
    /// <summary>The JSON of <paramref name="data"/> (message indexes and payload); null on success, else why it cannot be decoded.</summary>
    public static ConversionError? TryDecode(SchemaSource schemas, int id, ReadOnlyMemory<byte> data, string part, out byte[]? json)
    {
        json = null;
        if (schemas.GetParsed(id, ProtobufSchemaEntry.Parse) is not { } entry)
        {
            return new ConversionError(ConversionErrorKind.UnknownSchema, part, $"{part}: schema id {id} is not in the schema registry");
        }

        if (entry.File is not { } file)
        {
            return new ConversionError(ConversionErrorKind.UnknownSchema, part, $"{part}: schema id {id} is not a Protobuf schema the sink can read: {entry.Problem}");
        }

        try
        {
            json = ThreadJsonBuffer.Render((file, data), static (s, writer) =>
            {
                var (message, payload) = ProtobufMessageIndexes.Read(s.file, s.data);
                ProtobufJsonWriter.Write(message, payload, writer);
            });
        }
        catch (ProtobufDataException e)
        {
            return new ConversionError(ConversionErrorKind.InvalidEncoding, part, $"{part}: not Protobuf data of schema id {id}: {e.Message}");
        }

        return null;
    }

    /// <summary>The full name of the message type <paramref name="data"/>'s indexes name; null for an unknown id or bad indexes (its conversion reports why).</summary>
    public static string? MessageName(SchemaSource schemas, int id, ReadOnlyMemory<byte> data)
    {
        if (schemas.GetParsed(id, ProtobufSchemaEntry.Parse)?.File is not { } file)
        {
            return null;
        }

        try
        {
            return ProtobufMessageIndexes.Read(file, data).Message.FullName;
        }
        catch (ProtobufDataException)
        {
            return null;
        }
    }
}
