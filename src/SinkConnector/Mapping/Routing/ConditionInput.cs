using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Configuration.Routing;
using SinkConnector.Mapping.Conversion;
using SinkConnector.Mapping.Encodings;

namespace SinkConnector.Mapping.Routing;

/// <summary>
/// One message as a condition reads it: each source as text (null when absent or JSON null). The value and key are
/// parsed at most once per message and mapping, and only when a condition reads into them.
/// </summary>
internal sealed class ConditionInput(
    ConsumeResult<byte[]?, byte[]?> original, ConsumeResult<byte[]?, byte[]?> decoded, MessageFormat format, PayloadDecoder? decoder) : IDisposable
{
    private JsonDocument? _value;
    private EnvelopeParts _parts;
    private bool _valueParsed;
    private JsonDocument? _key;
    private bool _keyParsed;

    /// <exception cref="ConditionInputException">The value is not what the format says, so no path into it can be read.</exception>
    public string? Read(ConditionSource source)
    {
        if (source.IsSchemaName)
        {
            return decoder?.ValueSchemaName(original.Message.Value);
        }

        var path = source.Path!;
        var message = decoded.Message;
        switch (path.Kind)
        {
            case SourceKind.Header:
                return message.Headers is { } headers && headers.TryGetLastBytes(path.HeaderName!, out var bytes) && bytes is not null
                    ? Encoding.UTF8.GetString(bytes)
                    : null;
            case SourceKind.Topic:
                return decoded.Topic;
            case SourceKind.Partition:
                return decoded.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            case SourceKind.Offset:
                return decoded.Offset.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            case SourceKind.Timestamp:
                return message.Timestamp.Type == TimestampType.NotAvailable
                    ? null
                    : message.Timestamp.UnixTimestampMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
            case SourceKind.Key:
                return ReadKey(path);
            case SourceKind.Value when format == MessageFormat.Raw:
                return message.Value is null ? null : Encoding.UTF8.GetString(message.Value);
            case SourceKind.Value:
                EnsureValue();
                return _parts.HasRow ? Navigate(_parts.Row, path.Segments) : null;
            default:
                EnsureValue();
                return _parts.HasSource ? Navigate(_parts.Source, path.Segments) : null;
        }
    }

    public void Dispose()
    {
        _value?.Dispose();
        _key?.Dispose();
    }

    // Keys are often plain text ("order-17"): a key that is not JSON is its text, and has no fields.
    private string? ReadKey(SourcePath path)
    {
        var bytes = decoded.Message.Key;
        if (bytes is null)
        {
            return null;
        }

        if (!_keyParsed)
        {
            _keyParsed = true;
            try
            {
                _key = JsonDocument.Parse(Envelope.SkipBom(bytes));
            }
            catch (JsonException)
            {
                _key = null;
            }
        }

        if (_key is null)
        {
            return path.Segments.Count == 0 ? Encoding.UTF8.GetString(bytes) : null;
        }

        return Navigate(Envelope.UnwrapKey(format, _key.RootElement), path.Segments);
    }

    private void EnsureValue()
    {
        if (_valueParsed)
        {
            return;
        }

        _valueParsed = true;
        if (decoded.Message.Value is not { } bytes)
        {
            return;
        }

        try
        {
            _value = JsonDocument.Parse(Envelope.SkipBom(bytes));
        }
        catch (JsonException e)
        {
            throw new ConditionInputException(ConversionErrorKind.InvalidJson, $"value is not valid JSON: {e.Message}");
        }

        if (!Envelope.TryUnwrap(format, _value.RootElement, out _parts, out var failure))
        {
            throw new ConditionInputException(failure.Kind, failure.Message);
        }
    }

    private static string? Navigate(JsonElement element, IReadOnlyList<PathSegment> segments)
    {
        foreach (var segment in segments)
        {
            if (segment.IsIndex)
            {
                if (element.ValueKind != JsonValueKind.Array || segment.Index >= element.GetArrayLength())
                {
                    return null;
                }

                element = element[segment.Index];
            }
            else if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(segment.Property!, out element))
            {
                return null;
            }
        }

        return element.ValueKind switch
        {
            JsonValueKind.String => element.GetString(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => element.GetRawText(),
        };
    }
}

/// <summary>A condition could not read the message: the mapping's conversion error for it (a dead letter, or a stop).</summary>
internal sealed class ConditionInputException(ConversionErrorKind kind, string message) : Exception(message)
{
    public ConversionErrorKind Kind { get; } = kind;
}
