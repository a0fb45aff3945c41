using SinkConnector.Mapping;

namespace SinkConnector.Writing;

/// <summary>How a topic's messages become rows: its mapping's converter and upsert key columns.</summary>
/// <param name="Evolution">For columns from the schema: the mapping's current version by the message's writer schema.</param>
internal sealed record TopicConversion(MessageConverter Converter, int[] Keys, SchemaColumnsEvolution? Evolution = null);
