using SinkConnector.PgBinary;

namespace SinkConnector.Writing;

/// <summary>What a conversion chunk made of its messages, and the buffer its rows' tuples are in.</summary>
internal sealed record ConvertedChunk(List<ConvertedMessage> Outcomes, EncodedChunk Encoded);
