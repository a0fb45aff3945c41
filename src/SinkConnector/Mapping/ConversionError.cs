namespace SinkConnector.Mapping;

/// <summary>What kind of problem a message had; stored with dead letters and used to filter them.</summary>
public enum ConversionErrorKind
{
    /// <summary>The value or key is not valid JSON (or not valid UTF-8).</summary>
    InvalidJson,

    /// <summary>A required column's source is missing or null.</summary>
    MissingField,

    /// <summary>A value cannot be converted to the column type.</summary>
    WrongType,

    /// <summary>A value has the right type but does not fit the column (overflow, length, precision).</summary>
    OutOfRange,

    /// <summary>The envelope (debezium, connect-json) is not what the format expects.</summary>
    InvalidEnvelope,

    /// <summary>The value or key names a schema id the schema registry does not have (or one of another type).</summary>
    UnknownSchema,

    /// <summary>The value or key is not in the schema registry wire format, or its payload does not decode with its schema.</summary>
    InvalidEncoding,

    /// <summary>
    /// Converting the message threw: a bug of the sink, not a property of the message it can explain. The message is
    /// kept (dead letter) instead of stopping the process, so it can be replayed once the sink is fixed.
    /// </summary>
    Unexpected,

    /// <summary>
    /// The message's writer schema changed a field in a way the table (whose columns came from an earlier schema)
    /// cannot take: a type change, a removed required field, a new required field.
    /// </summary>
    IncompatibleSchema,
}

/// <summary>Why one message could not become a row. A value, not an exception: the loop decides what to do.</summary>
public sealed record ConversionError(ConversionErrorKind Kind, string Column, string Message)
{
    public override string ToString() => $"{Kind} in column '{Column}': {Message}";
}
