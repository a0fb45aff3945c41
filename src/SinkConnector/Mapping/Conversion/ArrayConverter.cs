using System.Text.Json;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.Conversion;

/// <summary>
/// Arrays of scalars (text[], bigint[], ...) as typed CLR arrays, from a JSON array. Null elements are rejected:
/// a typed array of a value type cannot carry them, and accepting them for some element types only would surprise.
/// </summary>
internal sealed class ArrayConverter<T> : ValueConverter
{
    private readonly ScalarConverter<T> _element;

    public ArrayConverter(ColumnType type, ScalarConverter<T> element) : base(type) => _element = element;

    public override bool TryFromJson(JsonElement element, out object? value, out Failure failure)
    {
        value = null;
        if (element.ValueKind != JsonValueKind.Array)
        {
            failure = Failure.WrongType($"{Type.SqlName} (expected a JSON array)", element);
            return false;
        }

        var result = new T[element.GetArrayLength()];
        var i = 0;
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Null)
            {
                failure = new Failure(ConversionErrorKind.WrongType, $"element [{i}] is null; {Type.SqlName} elements cannot be null");
                return false;
            }

            if (!_element.TryJson(item, out result[i], out var elementFailure))
            {
                failure = elementFailure with { Message = $"element [{i}]: {elementFailure.Message}" };
                return false;
            }

            i++;
        }

        value = result;
        failure = default;
        return true;
    }

    /// <summary>Headers and defaults spell arrays as JSON too (<c>["a","b"]</c>, <c>[]</c>).</summary>
    public override bool TryFromText(string text, out object? value, out Failure failure)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            value = null;
            failure = Failure.WrongType($"{Type.SqlName} (expected a JSON array)", text);
            return false;
        }

        using (document)
        {
            // Its strings are decoded below, which throws on such an escape.
            if (UnicodeEscapes.FindUnpairedSurrogate(text.AsSpan()) is var at and >= 0)
            {
                value = null;
                failure = new Failure(ConversionErrorKind.WrongType, $"{Failure.Show(text)} is not valid JSON for {Type.SqlName}: {UnicodeEscapes.Describe(text.AsSpan(), at)}");
                return false;
            }

            return TryFromJson(document.RootElement, out value, out failure);
        }
    }

    public override bool TryFromInt64(long number, out object? value, out Failure failure)
    {
        value = null;
        failure = Failure.WrongType(Type.SqlName, number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return false;
    }
}
