namespace SinkConnector.PgBinary;

/// <summary>
/// The element type OID of an array column whose element type has no fixed OID (an enum, citext from its extension):
/// binary COPY's array header carries it and array_recv refuses any other, yet it differs per database. The table
/// check reads it from the target column at startup (<see cref="Resolve"/>), before a row of the mapping is encoded.
/// </summary>
/// <remarks>
/// Every instance equals every other, so column types parsed from the same text stay equal whether or not they have
/// been checked yet: the OID is a fact of the database, not of the mapping.
/// </remarks>
public sealed class PgElementOid : IEquatable<PgElementOid>
{
    private long _oid = -1;

    /// <param name="elementName">The element type as messages name it (<c>citext</c>, an enum's name).</param>
    public PgElementOid(string elementName) => ElementName = elementName;

    public string ElementName { get; }

    /// <summary>Null until the table check has read it.</summary>
    public uint? Value => Interlocked.Read(ref _oid) is var oid and >= 0 ? (uint)oid : null;

    public void Resolve(uint oid) => Interlocked.Exchange(ref _oid, oid);

    /// <summary>The OID for an array header; an unchecked mapping is a bug of the caller, not a bad row.</summary>
    public uint Require() => Value ?? throw new InvalidOperationException(
        $"the element type OID of {ElementName}[] was not read from the database (the table check reads it before rows are encoded)");

    public bool Equals(PgElementOid? other) => other is not null;

    public override bool Equals(object? obj) => obj is PgElementOid;

    public override int GetHashCode() => 0;
}
