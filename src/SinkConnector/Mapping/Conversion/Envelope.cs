using System.Text.Json;
using SinkConnector.Configuration;

namespace SinkConnector.Mapping.Conversion;

/// <summary>The parts of a parsed value that <c>value.*</c> and <c>source.*</c> paths start from, per message format.</summary>
internal readonly record struct EnvelopeParts(JsonElement Row, bool HasRow, JsonElement Source, bool HasSource);

/// <summary>Format-specific unwrapping: where the row image is inside a value, and whether a message is a delete.</summary>
internal static class Envelope
{
    public static bool TryUnwrap(MessageFormat format, JsonElement root, out EnvelopeParts parts, out Failure failure)
    {
        failure = default;
        parts = default;
        switch (format)
        {
            case MessageFormat.Debezium:
                return TryDebezium(root, out parts, out failure);
            case MessageFormat.ConnectJson:
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("payload"u8, out var payload))
                {
                    failure = new Failure(ConversionErrorKind.InvalidEnvelope, "connect-json value must be an object with a 'payload' field ({\"schema\":...,\"payload\":...})");
                    return false;
                }

                parts = new EnvelopeParts(payload, payload.ValueKind != JsonValueKind.Null, default, false);
                return true;
            default:
                parts = new EnvelopeParts(root, root.ValueKind != JsonValueKind.Null, default, false);
                return true;
        }
    }

    /// <summary>
    /// Kafka Connect's JSON converter with schemas enabled wraps keys as {"schema":..,"payload":..} too; for debezium and
    /// connect-json, <c>key.*</c> reads the payload so that a key field has the same path as in the row image.
    /// </summary>
    public static JsonElement UnwrapKey(MessageFormat format, JsonElement root) =>
        format is MessageFormat.Debezium or MessageFormat.ConnectJson
        && root.ValueKind == JsonValueKind.Object
        && root.TryGetProperty("schema"u8, out _)
        && root.TryGetProperty("payload"u8, out var payload)
            ? payload
            : root;

    /// <summary>
    /// With the JSON converter's schemas enabled the event is wrapped as {"schema":..,"payload":{op,before,after,source}};
    /// without, it is the bare {op,before,after,source}. Both are accepted.
    /// </summary>
    private static bool TryDebezium(JsonElement root, out EnvelopeParts parts, out Failure failure)
    {
        parts = default;
        failure = new Failure(ConversionErrorKind.InvalidEnvelope, "not a Debezium change event: expected an object with 'op', 'before', 'after' and 'source' (optionally inside 'payload')");
        if (root.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        var envelope = root;
        if (!root.TryGetProperty("op"u8, out var op)
            && root.TryGetProperty("payload"u8, out var payload)
            && payload.ValueKind == JsonValueKind.Object)
        {
            envelope = payload;
        }

        if (!envelope.TryGetProperty("op"u8, out op) || op.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        // A delete carries the old row in 'before' (its key columns are what the sink deletes by); 'after' is null.
        var image = op.ValueEquals("d"u8) ? "before"u8 : "after"u8;
        var hasRow = envelope.TryGetProperty(image, out var row) && row.ValueKind == JsonValueKind.Object;
        var hasSource = envelope.TryGetProperty("source"u8, out var source) && source.ValueKind == JsonValueKind.Object;
        parts = new EnvelopeParts(row, hasRow, source, hasSource);
        failure = default;
        return true;
    }

    /// <summary>
    /// Finds a Debezium event's op with a forward-only reader, so classifying needs no document. Malformed input is a
    /// Row here: conversion reports the real error.
    /// </summary>
    public static MessageKind ClassifyDebezium(byte[] value)
    {
        try
        {
            var reader = new Utf8JsonReader(SkipBom(value).Span);
            return reader.Read() && reader.TokenType == JsonTokenType.StartObject && FindOp(ref reader, topLevel: true) is { } isDelete && isDelete
                ? MessageKind.Delete
                : MessageKind.Row;
        }
        catch (JsonException)
        {
            return MessageKind.Row;
        }
    }

    /// <summary>Reader on a StartObject; returns whether op is "d", or null when the object has no op.</summary>
    private static bool? FindOp(ref Utf8JsonReader reader, bool topLevel)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            // Comparing an escaped unpaired surrogate throws; such a value is not valid JSON, so it is a Row (see above).
            if (!UnicodeEscapes.IsDecodable(ref reader))
            {
                return false;
            }

            if (reader.ValueTextEquals("op"u8))
            {
                reader.Read();
                return reader.TokenType == JsonTokenType.String && UnicodeEscapes.IsDecodable(ref reader) && reader.ValueTextEquals("d"u8);
            }

            var isPayload = topLevel && reader.ValueTextEquals("payload"u8);
            reader.Read();
            if (isPayload && reader.TokenType == JsonTokenType.StartObject)
            {
                if (FindOp(ref reader, topLevel: false) is { } found)
                {
                    return found;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return null;
    }

    /// <summary>JsonDocument rejects a UTF-8 byte order mark; some producers (.NET's Encoding.UTF8.GetPreamble users) write one.</summary>
    public static ReadOnlyMemory<byte> SkipBom(byte[] bytes) =>
        bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? bytes.AsMemory(3) : bytes;
}
