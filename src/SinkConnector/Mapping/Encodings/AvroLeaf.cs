namespace SinkConnector.Mapping.Encodings;

/// <summary>What an Avro value is once its logical or Connect type is applied: the JSON token the JSON path would make of it.</summary>
internal enum AvroLeafKind : byte
{
    /// <summary>Not in the message, or Avro null: no value.</summary>
    Absent,
    Boolean,

    /// <summary>int and long (and logical types the sink does not interpret on them).</summary>
    Integer,
    Float,
    Double,

    /// <summary>string, enum symbols, uuid on string.</summary>
    String,

    /// <summary>bytes and fixed: base64 in JSON.</summary>
    Bytes,

    /// <summary>Unscaled big-endian two's complement in the data, with <see cref="AvroLeaf.Scale"/>.</summary>
    Decimal,
    Date,
    Time,
    Timestamp,
    Uuid,

    /// <summary>records, maps, arrays: only their JSON text (or an array's elements) makes sense.</summary>
    Container,
}

/// <summary>
/// One decoded Avro value without copying it: numbers inline, strings and bytes as a range of the payload, and always
/// the range and schema of the whole encoded value, from which json/jsonb columns (and anything unusual) get exactly
/// the JSON text the JSON path would have produced.
/// </summary>
internal struct AvroLeaf
{
    public AvroLeafKind Kind;

    /// <summary>Integer and Boolean (0/1): the value; Date: the day number; Time and Timestamp: ticks.</summary>
    public long Number;

    public double Real;

    /// <summary>String, Bytes, Decimal, Uuid: where the content is in the payload.</summary>
    public int DataStart;

    public int DataLength;

    /// <summary>Decimal: the scale. Timestamp: 1 when UTC (written with Z in JSON).</summary>
    public int Scale;

    /// <summary>An enum's symbol (not in the payload).</summary>
    public byte[]? Symbol;

    /// <summary>The encoded value as a whole: the schema it was read with and its range in the payload.</summary>
    public Avro.Schema? Schema;

    public int Start;

    public int End;
}
