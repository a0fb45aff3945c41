using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using SinkConnector.Registry;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>
/// One message through both Avro paths of the write path: the direct one (Avro binary into the COPY tuple) and the
/// JSON one (Avro decoded to JSON, then the JSON converters), as BatchConverter runs them.
/// </summary>
internal sealed class AvroPaths(MappingConfig mapping, SchemaSource schemas)
{
    private readonly MessageConverter _direct = new(mapping, singlePass: true, schemas);
    private readonly MessageConverter _json = new(mapping, singlePass: true, schemas, avroDirect: false);
    private readonly int[] _keys = mapping.Mode == WriteMode.Upsert ? mapping.KeyIndexes() : [];

    public MappingConfig Mapping => mapping;

    /// <summary>The direct tuple, or null when the direct path left the message to the JSON path.</summary>
    public byte[]? Direct(ConsumeResult<byte[]?, byte[]?> message)
    {
        var tuple = new CopyBuffer();
        var keyValues = new object?[mapping.Columns.Count];
        if (!_direct.TryEncodeDirect(message, tuple, keyValues, _keys))
        {
            Assert.Equal(0, tuple.Length);
            return null;
        }

        return tuple.WrittenMemory.ToArray();
    }

    /// <summary>The JSON path's tuple, or its error.</summary>
    public (byte[]? Tuple, ConversionError? Error) Json(ConsumeResult<byte[]?, byte[]?> message)
    {
        var tuple = new CopyBuffer();
        var error = _json.TryDecode(message, out var decoded);
        if (error is null && _json.Decide(decoded) != ChangeKind.Write)
        {
            return (null, null);
        }

        error ??= _json.TryEncode(decoded, tuple, new object?[mapping.Columns.Count], _keys);
        return (error is null ? tuple.WrittenMemory.ToArray() : null, error);
    }

    /// <summary>The column values as the JSON path converts them (for asserting what a row holds).</summary>
    public object?[] Values(ConsumeResult<byte[]?, byte[]?> message)
    {
        var values = new object?[mapping.Columns.Count];
        var error = _json.TryDecode(message, out var decoded) ?? _json.TryConvert(decoded, values);
        Assert.Null(error);
        return values;
    }

    /// <summary>Asserts that the direct path wrote the message, and exactly the JSON path's tuple.</summary>
    public void AssertSameRowDirectly(ConsumeResult<byte[]?, byte[]?> message)
    {
        var (json, error) = Json(message);
        Assert.Null(error);
        var direct = Direct(message);
        Assert.NotNull(direct);
        Assert.Equal(Convert.ToHexString(json!), Convert.ToHexString(direct));
    }
}
