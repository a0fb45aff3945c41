using System.Globalization;
using System.Text.Json;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.Conversion;

/// <summary>Why one input could not become a column value; the message names the offending input, not the column.</summary>
internal readonly record struct Failure(ConversionErrorKind Kind, string Message)
{
    public static Failure WrongType(string expected, string input) =>
        new(ConversionErrorKind.WrongType, $"{Show(input)} is not a valid {expected}");

    public static Failure WrongType(string expected, JsonElement input) =>
        new(ConversionErrorKind.WrongType, $"JSON {Describe(input)} {Show(input.GetRawText())} is not a valid {expected}");

    public static Failure OutOfRange(string type, string input) =>
        new(ConversionErrorKind.OutOfRange, $"{Show(input)} is out of range for {type}");

    /// <summary>Dead letters carry the raw message; the error text only needs enough of the input to recognize it.</summary>
    public static string Show(string input)
    {
        if (input.Length <= 80)
        {
            return $"'{Storable(input)}'";
        }

        // Not between the two halves of a surrogate pair: half of one is what Storable would have to replace.
        var cut = char.IsHighSurrogate(input[79]) ? 79 : 80;
        return $"'{Storable(input[..cut])}...' ({input.Length} chars)";
    }

    /// <summary>
    /// Text an error message may quote, made storable as the dead letter's Postgres text: NUL and unpaired surrogates
    /// (which Postgres text cannot hold, and Npgsql refuses to encode) become U+FFFD.
    /// </summary>
    public static string Storable(string text)
    {
        var span = text.AsSpan();
        if (!span.Contains('\0') && !span.ContainsAnyInRange('\uD800', '\uDFFF'))
        {
            return text;
        }

        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var pair = char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]);
            if (pair)
            {
                i++;
            }
            else if (chars[i] == '\0' || char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }

        return new string(chars);
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "value",
    };
}

/// <summary>
/// Turns one source value into the CLR value Npgsql's binary COPY writes for a column type.
/// One instance per column, built once per mapping, so the per-message path is a virtual call, not a type switch.
/// Inputs are never null: the caller handles absent and JSON null values (required/nullable/default).
/// </summary>
internal abstract class ValueConverter
{
    protected ValueConverter(ColumnType type) => Type = type;

    public ColumnType Type { get; }

    /// <summary>A JSON element from a parsed key or value (never <see cref="JsonValueKind.Null"/>).</summary>
    public abstract bool TryFromJson(JsonElement element, out object? value, out Failure failure);

    /// <summary>
    /// The token <paramref name="reader"/> is on (never JSON null), read in place: the single-pass path of
    /// <see cref="JsonFieldIndex"/>. Must give exactly what <see cref="TryFromJson"/> gives for the same value; this
    /// default builds the element, and converters override the common tokens.
    /// </summary>
    public virtual bool TryFromToken(ref Utf8JsonReader reader, out object? value, out Failure failure) =>
        TryFromJson(JsonElement.ParseValue(ref reader), out value, out failure);

    /// <summary>
    /// What <see cref="TryFromToken"/> gives, written as the field of a binary COPY tuple (<see cref="CopyRowEncoder"/>):
    /// the write path of the single-pass reader, whose input is already checked to be valid UTF-8. This default boxes;
    /// <see cref="ScalarConverter{T}"/> writes its typed value, and text copies an unescaped string's bytes.
    /// </summary>
    public virtual bool TryEncodeToken(ref Utf8JsonReader reader, CopyBuffer output, out Failure failure)
    {
        if (!TryFromToken(ref reader, out var value, out failure))
        {
            return false;
        }

        CopyRowEncoder.WriteField(output, value, Type);
        return true;
    }

    /// <summary>Text that did not come from JSON: headers, plain-text keys, mapping defaults, the topic name.</summary>
    public abstract bool TryFromText(string text, out object? value, out Failure failure);

    /// <summary>
    /// Whether the token is a JSON string whose bytes are its value as they stand (no escapes to undo), so a converter
    /// can read <paramref name="utf8"/> in place instead of making a string first.
    /// </summary>
    protected static bool IsPlainString(ref Utf8JsonReader reader, out ReadOnlySpan<byte> utf8)
    {
        var plain = reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && !reader.HasValueSequence;
        utf8 = plain ? reader.ValueSpan : default;
        return plain;
    }

    /// <summary>Partition and offset. Only the numeric types override this; for the rest the text form is as good.</summary>
    public virtual bool TryFromInt64(long number, out object? value, out Failure failure) =>
        TryFromText(number.ToString(CultureInfo.InvariantCulture), out value, out failure);

    /// <summary>The Kafka message timestamp: temporal and text columns want a time, numeric columns the epoch millis.</summary>
    public virtual bool TryFromEpochMillis(long milliseconds, out object? value, out Failure failure) =>
        TryFromInt64(milliseconds, out value, out failure);
}

/// <summary>A converter whose values have one CLR type, so arrays of it can be built without boxing each element.</summary>
internal abstract class ScalarConverter<T> : ValueConverter
{
    protected ScalarConverter(ColumnType type) : base(type)
    {
    }

    public abstract bool TryJson(JsonElement element, out T value, out Failure failure);

    public abstract bool TryText(string text, out T value, out Failure failure);

    public sealed override bool TryFromJson(JsonElement element, out object? value, out Failure failure) =>
        Box(TryJson(element, out var v, out failure), v, out value);

    public sealed override bool TryFromText(string text, out object? value, out Failure failure) =>
        Box(TryText(text, out var v, out failure), v, out value);

    /// <summary>See <see cref="ValueConverter.TryFromToken"/>: the same result as <see cref="TryJson"/>, without the element where it can.</summary>
    public virtual bool TryToken(ref Utf8JsonReader reader, out T value, out Failure failure) =>
        TryJson(JsonElement.ParseValue(ref reader), out value, out failure);

    public sealed override bool TryFromToken(ref Utf8JsonReader reader, out object? value, out Failure failure) =>
        Box(TryToken(ref reader, out var v, out failure), v, out value);

    public override bool TryEncodeToken(ref Utf8JsonReader reader, CopyBuffer output, out Failure failure)
    {
        if (!TryToken(ref reader, out var value, out failure))
        {
            return false;
        }

        CopyRowEncoder.WriteField(output, value, Type);
        return true;
    }

    /// <summary>For converters whose JSON strings go through <see cref="TryText"/> (<see cref="TryJsonString"/>): the string token as text.</summary>
    protected bool TryStringToken(ref Utf8JsonReader reader, out T value, out Failure failure) =>
        reader.TokenType == JsonTokenType.String
            ? TryText(reader.GetString()!, out value, out failure)
            : TryJson(JsonElement.ParseValue(ref reader), out value, out failure);

    protected static bool Box(bool ok, T converted, out object? value)
    {
        value = ok ? converted : null;
        return ok;
    }

    /// <summary>The common JSON shape of non-text scalars: a JSON string is parsed like text, anything else is the wrong type.</summary>
    protected bool TryJsonString(JsonElement element, string expected, out T value, out Failure failure)
    {
        if (element.ValueKind == JsonValueKind.String)
        {
            return TryText(element.GetString()!, out value, out failure);
        }

        value = default!;
        failure = Failure.WrongType(expected, element);
        return false;
    }
}
