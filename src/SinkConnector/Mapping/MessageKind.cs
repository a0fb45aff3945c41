namespace SinkConnector.Mapping;

/// <summary>What a consumed message is, before the mapping decides what to do with it.</summary>
public enum MessageKind
{
    /// <summary>A row to insert or upsert.</summary>
    Row,

    /// <summary>A null value (for every format): delete by key when <c>delete_on_tombstone</c> is set, otherwise skip.</summary>
    Tombstone,

    /// <summary>A Debezium change event with <c>op: "d"</c>; its key columns come from the <c>before</c> image.</summary>
    Delete,
}

/// <summary>What a message does to its mapping's table.</summary>
public enum ChangeKind
{
    /// <summary>Nothing (a tombstone without delete_on_tombstone, a delete in insert mode); the offset still advances.</summary>
    Skip,

    /// <summary>Insert (mode insert) or insert-or-update by key (mode upsert) the converted row.</summary>
    Write,

    /// <summary>Delete by key (mode upsert); only the key columns are converted.</summary>
    Delete,
}
