namespace SinkConnector.Mapping;

/// <summary>What a consumed message asks the sink to do.</summary>
public enum MessageKind
{
    /// <summary>A row to insert or upsert.</summary>
    Row,

    /// <summary>A null value (for every format): delete by key when <c>delete_on_tombstone</c> is set, otherwise skip.</summary>
    Tombstone,

    /// <summary>A Debezium change event with <c>op: "d"</c>; its key columns come from the <c>before</c> image.</summary>
    Delete,
}
