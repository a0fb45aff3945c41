using System.Text.Json;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.Conversion;

/// <summary>text and varchar(n): JSON strings as their content, numbers and booleans as their JSON text.</summary>
internal sealed class TextConverter : ScalarConverter<string>
{
    private readonly int? _maxLength;

    public TextConverter(ColumnType type) : base(type) => _maxLength = type.Scalar == ScalarType.Varchar ? type.Length : null;

    public override bool TryJson(JsonElement element, out string value, out Failure failure)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return TryText(element.GetString()!, out value, out failure);
            case JsonValueKind.Number:
                return TryText(element.GetRawText(), out value, out failure);
            case JsonValueKind.True:
                return TryText("true", out value, out failure);
            case JsonValueKind.False:
                return TryText("false", out value, out failure);
            default:
                value = null!;
                failure = Failure.WrongType(Type.SqlName, element);
                return false;
        }
    }

    public override bool TryToken(ref Utf8JsonReader reader, out string value, out Failure failure) =>
        TryStringToken(ref reader, out value, out failure);

    /// <summary>
    /// An unescaped JSON string is already the UTF-8 Postgres stores: valid (the caller checked) and without NUL (JSON
    /// strings cannot hold a raw control character), so its bytes go to the tuple without a string in between.
    /// </summary>
    public override bool TryEncodeToken(ref Utf8JsonReader reader, CopyBuffer output, out Failure failure)
    {
        if (IsPlainString(ref reader, out var utf8) && (_maxLength is not { } max || utf8.Length <= max || CodePoints(utf8) <= max))
        {
            CopyRowEncoder.WriteTextField(output, utf8);
            failure = default;
            return true;
        }

        return base.TryEncodeToken(ref reader, output, out failure);
    }

    /// <summary>
    /// Valid UTF-8 (checked by the caller) straight into the tuple when it is what <see cref="TryText"/> would accept as
    /// it stands: no NUL, within varchar's length. False writes nothing; the caller then goes through the string.
    /// </summary>
    public bool TryEncodeUtf8(ReadOnlySpan<byte> utf8, CopyBuffer output)
    {
        if (utf8.Contains((byte)0) || (_maxLength is { } max && utf8.Length > max && CodePoints(utf8) > max))
        {
            return false;
        }

        CopyRowEncoder.WriteTextField(output, utf8);
        return true;
    }

    public override bool TryText(string text, out string value, out Failure failure)
    {
        value = text;
        // Postgres text cannot hold NUL; COPY would fail the whole batch, so it is caught per message here.
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            failure = new Failure(ConversionErrorKind.WrongType, $"{Failure.Show(text.Replace('\0', ' '))} contains a NUL character, which Postgres text cannot store");
            return false;
        }

        if (_maxLength is { } max && text.Length > max && CodePoints(text) > max)
        {
            failure = new Failure(ConversionErrorKind.OutOfRange, $"{Failure.Show(text)} is longer than {max} characters ({Type.SqlName})");
            return false;
        }

        failure = default;
        return true;
    }

    public override bool TryFromEpochMillis(long milliseconds, out object? value, out Failure failure)
    {
        if (!TemporalRules.TryFromEpochMillis(milliseconds, out var utc))
        {
            value = null;
            failure = Failure.OutOfRange("a timestamp", milliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return false;
        }

        return TryFromText(utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture), out value, out failure);
    }

    /// <summary>Code points in UTF-8: every byte that does not continue a character starts one.</summary>
    private static int CodePoints(ReadOnlySpan<byte> utf8)
    {
        var count = 0;
        foreach (var b in utf8)
        {
            count += (b & 0xC0) == 0x80 ? 0 : 1;
        }

        return count;
    }

    /// <summary>varchar(n) counts characters as Postgres does (code points), so a surrogate pair counts once.</summary>
    private static int CodePoints(string text)
    {
        var count = text.Length;
        foreach (var c in text)
        {
            if (char.IsLowSurrogate(c))
            {
                count--;
            }
        }

        return count;
    }
}

/// <summary>
/// json and jsonb: the element's original text, not a re-serialization, so numbers keep their exact digits
/// and (for json) whitespace and key order survive.
/// </summary>
internal sealed class JsonTextConverter : ScalarConverter<string>
{
    private readonly bool _isJsonb;

    public JsonTextConverter(ColumnType type) : base(type) => _isJsonb = type.Scalar == ScalarType.Jsonb;

    public override bool TryJson(JsonElement element, out string value, out Failure failure)
    {
        value = element.GetRawText();
        return Check(value, out failure);
    }

    /// <summary>Text from a header or default must itself be JSON; a bare word is a mistake, not a JSON string.</summary>
    public override bool TryText(string text, out string value, out Failure failure)
    {
        value = text;
        try
        {
            using var document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            failure = new Failure(ConversionErrorKind.WrongType, $"{Failure.Show(text)} is not valid JSON for {Type.SqlName}: {Failure.Storable(e.Message)}");
            return false;
        }

        // As for a message's own JSON (checked where it is parsed): json and jsonb alike, although Postgres json would take it.
        if (UnicodeEscapes.FindUnpairedSurrogate(text.AsSpan()) is var at and >= 0)
        {
            failure = new Failure(ConversionErrorKind.WrongType, $"{Failure.Show(text)} is not valid JSON for {Type.SqlName}: {UnicodeEscapes.Describe(text.AsSpan(), at)}");
            return false;
        }

        return Check(text, out failure);
    }

    public override bool TryFromInt64(long number, out object? value, out Failure failure)
    {
        value = number.ToString(System.Globalization.CultureInfo.InvariantCulture);
        failure = default;
        return true;
    }

    /// <summary>JSON text as a parsed element's raw text would be (written by the sink itself, so not parsed again).</summary>
    public bool TryFromRaw(string json, out object? value, out Failure failure)
    {
        value = json;
        return Check(json, out failure);
    }

    private bool Check(string json, out Failure failure)
    {
        // jsonb rejects the \u0000 escape ("unsupported Unicode escape sequence"); json stores the text as is.
        if (_isJsonb && ContainsNulEscape(json))
        {
            failure = new Failure(ConversionErrorKind.WrongType, "JSON contains \\u0000, which jsonb cannot store");
            return false;
        }

        failure = default;
        return true;
    }

    /// <summary>Backslashes only occur inside JSON strings, so walking escape by escape finds a real \u0000, not a quoted "\\u0000".</summary>
    private static bool ContainsNulEscape(string json)
    {
        var i = json.IndexOf('\\', StringComparison.Ordinal);
        while (i >= 0 && i + 1 < json.Length)
        {
            if (json[i + 1] == 'u' && json.AsSpan(i + 2).StartsWith("0000", StringComparison.Ordinal))
            {
                return true;
            }

            var next = json[i + 1] == 'u' ? i + 6 : i + 2;
            i = next < json.Length ? json.IndexOf('\\', next) : -1;
        }

        return false;
    }
}

/// <summary>bytea: base64 in JSON and text (JSON has no bytes); headers and raw values pass their bytes through untouched.</summary>
internal sealed class ByteaConverter : ScalarConverter<byte[]>
{
    public ByteaConverter(ColumnType type) : base(type)
    {
    }

    public override bool TryJson(JsonElement element, out byte[] value, out Failure failure)
    {
        if (element.ValueKind == JsonValueKind.String && element.TryGetBytesFromBase64(out var bytes))
        {
            value = bytes;
            failure = default;
            return true;
        }

        value = null!;
        failure = Failure.WrongType("base64 string for bytea", element);
        return false;
    }

    public override bool TryText(string text, out byte[] value, out Failure failure)
    {
        var buffer = new byte[(text.Length * 3 / 4) + 3];
        if (Convert.TryFromBase64String(text, buffer, out var written))
        {
            value = written == buffer.Length ? buffer : buffer.AsSpan(0, written).ToArray();
            failure = default;
            return true;
        }

        value = null!;
        failure = Failure.WrongType("base64 string for bytea", text);
        return false;
    }
}
