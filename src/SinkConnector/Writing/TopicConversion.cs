using SinkConnector.Mapping;

namespace SinkConnector.Writing;

/// <summary>How a topic's messages become rows: its mapping's converter and upsert key columns.</summary>
internal sealed record TopicConversion(MessageConverter Converter, int[] Keys);
