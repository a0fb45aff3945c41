using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Registry;

namespace SinkConnector.Mapping.Encodings;

/// <summary>
/// Decodes a mapping's registry-encoded values and keys (<see cref="PayloadEncoding"/>) into the JSON its converters
/// read, so the envelope (plain, Debezium) and every column type work the same whatever the encoding. Keys are only
/// decoded when the mapping reads them (a <c>key</c> column, or deletes in mode upsert).
/// </summary>
internal sealed class PayloadDecoder
{
    private readonly PayloadEncoding _value;
    private readonly PayloadEncoding _key;
    private readonly SchemaSource? _schemas;

    private PayloadDecoder(PayloadEncoding value, PayloadEncoding key, SchemaSource? schemas)
    {
        _value = value;
        _key = key;
        _schemas = schemas;
    }

    /// <summary>Null when the mapping's keys and values are plain JSON (nothing to decode).</summary>
    public static PayloadDecoder? For(MappingConfig mapping, SchemaSource? schemas)
    {
        var readsKey = mapping.Mode == WriteMode.Upsert || mapping.Columns.Any(c => c.From.Kind == SourceKind.Key);
        var key = readsKey ? mapping.KeyEncoding : PayloadEncoding.Json;
        return mapping.ValueEncoding == PayloadEncoding.Json && key == PayloadEncoding.Json
            ? null
            : new PayloadDecoder(mapping.ValueEncoding, key, schemas);
    }

    /// <summary>The schema ids <see cref="TryDecode(ConsumeResult{byte[], byte[]}, out ConsumeResult{byte[], byte[]})"/> will look up for <paramref name="message"/>.</summary>
    public void AddSchemaIds(ConsumeResult<byte[]?, byte[]?> message, ISet<int> ids)
    {
        if (_value != PayloadEncoding.Json && message.Message.Value is { } value && WireFormat.TrySplit(value, out var valueId, out _, out _))
        {
            ids.Add(valueId);
        }

        if (_key != PayloadEncoding.Json && message.Message.Key is { } key && WireFormat.TrySplit(key, out var keyId, out _, out _))
        {
            ids.Add(keyId);
        }
    }

    /// <summary>Whether values are Avro: the ones <see cref="AvroRowPlan"/> can read without JSON.</summary>
    public bool ValueIsAvro => _value == PayloadEncoding.Avro;

    /// <summary>The writer schema of an Avro value's id; null when the registry does not have it or it is not Avro.</summary>
    public Avro.Schema? AvroSchema(int id) => _schemas?.GetParsed(id, AvroSchemaEntry.Parse)?.Schema;

    /// <summary>
    /// Whether <see cref="TryDecode(ConsumeResult{byte[], byte[]}, out ConsumeResult{byte[], byte[]})"/> would accept
    /// the key (it decodes keys a mapping reads even when no column of a write needs them): checked without JSON.
    /// </summary>
    public bool AcceptsKey(byte[]? key)
    {
        if (_key == PayloadEncoding.Json || key is null)
        {
            return true;
        }

        if (!WireFormat.TrySplit(key, out var id, out var payload, out _) || _schemas is null)
        {
            return false;
        }

        if (_key == PayloadEncoding.Protobuf)
        {
            return ProtobufPayloadDecoder.TryDecode(_schemas, id, payload, "key", out _) is null;
        }

        if (_key != PayloadEncoding.Avro)
        {
            return _schemas.GetParsed(id, s => s) is not null;
        }

        if (AvroSchema(id) is not { } schema)
        {
            return false;
        }

        try
        {
            var reader = new AvroBinaryReader(payload.Span);
            AvroValueReader.Read(schema, ref reader, 0);
            return reader.Remaining == 0;
        }
        catch (AvroDataException)
        {
            return false;
        }
    }

    /// <summary>The message with its key and value as JSON; null on success, else why it cannot be decoded.</summary>
    public ConversionError? TryDecode(ConsumeResult<byte[]?, byte[]?> message, out ConsumeResult<byte[]?, byte[]?> decoded)
    {
        decoded = message;
        var value = message.Message.Value;
        var key = message.Message.Key;
        if (TryDecode(_value, value, "value", out var decodedValue) is { } valueError)
        {
            return valueError;
        }

        if (TryDecode(_key, key, "key", out var decodedKey) is { } keyError)
        {
            return keyError;
        }

        decoded = new ConsumeResult<byte[]?, byte[]?>
        {
            TopicPartitionOffset = message.TopicPartitionOffset,
            IsPartitionEOF = message.IsPartitionEOF,
            Message = new Message<byte[]?, byte[]?>
            {
                Key = decodedKey,
                Value = decodedValue,
                Headers = message.Message.Headers,
                Timestamp = message.Message.Timestamp,
            },
        };
        return null;
    }

    /// <summary>The name of the value's writer schema (see <see cref="WriterSchemaName"/>); null for a value not in the wire format or an unknown id.</summary>
    /// <remarks>A Protobuf value's is its message type's full name (<c>shop.v1.Order</c>), named by its message indexes.</remarks>
    public string? ValueSchemaName(byte[]? value) =>
        _value != PayloadEncoding.Json && value is not null && _schemas is not null && WireFormat.TrySplit(value, out var id, out var payload, out _)
            ? _value == PayloadEncoding.Protobuf ? ProtobufPayloadDecoder.MessageName(_schemas, id, payload) : _schemas.GetParsed(id, WriterSchemaName.Parse)?.Name
            : null;

    private ConversionError? TryDecode(PayloadEncoding encoding, byte[]? bytes, string part, out byte[]? json)
    {
        json = bytes;
        if (encoding == PayloadEncoding.Json || bytes is null)
        {
            return null;
        }

        if (!WireFormat.TrySplit(bytes, out var id, out var payload, out var problem))
        {
            return new ConversionError(ConversionErrorKind.InvalidEncoding, part, $"{part}: {problem}");
        }

        var schemas = _schemas ?? throw new InvalidOperationException("a mapping with a registry encoding needs the schema registry (schema_registry in sink.yaml)");
        return encoding switch
        {
            PayloadEncoding.Avro => TryDecodeAvro(schemas, id, payload, part, out json),
            PayloadEncoding.Protobuf => ProtobufPayloadDecoder.TryDecode(schemas, id, payload, part, out json),
            _ => TryCheckJsonSchema(schemas, id, payload, part, out json),
        };
    }

    private static ConversionError? TryDecodeAvro(SchemaSource schemas, int id, ReadOnlyMemory<byte> payload, string part, out byte[]? json)
    {
        json = null;
        if (schemas.GetParsed(id, AvroSchemaEntry.Parse) is not { } entry)
        {
            return UnknownSchema(id, part);
        }

        if (entry.Schema is not { } schema)
        {
            return new ConversionError(ConversionErrorKind.UnknownSchema, part, $"{part}: schema id {id} is not an Avro schema the sink can read: {entry.Problem}");
        }

        try
        {
            json = ThreadJsonBuffer.Render((schema, payload), static (s, writer) => AvroJsonWriter.Write(s.schema, s.payload.Span, writer));
        }
        catch (AvroDataException e)
        {
            return new ConversionError(ConversionErrorKind.InvalidEncoding, part, $"{part}: not Avro data of schema id {id}: {e.Message}");
        }

        return null;
    }

    /// <summary>JSON Schema payloads are JSON already: the header goes, and the schema id must be one the registry has.</summary>
    private static ConversionError? TryCheckJsonSchema(SchemaSource schemas, int id, ReadOnlyMemory<byte> payload, string part, out byte[]? json)
    {
        json = null;
        if (schemas.GetParsed(id, s => s) is null)
        {
            return UnknownSchema(id, part);
        }

        json = payload.ToArray();
        return null;
    }

    private static ConversionError UnknownSchema(int id, string part) =>
        new(ConversionErrorKind.UnknownSchema, part, $"{part}: schema id {id} is not in the schema registry");
}
