namespace SinkConnector.Mapping.Encodings;

/// <summary>Protobuf data that does not decode with its schema: the message's problem (a dead letter), never the sink's.</summary>
internal sealed class ProtobufDataException(string message) : Exception(message);
