using System.Text.Json;

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

internal static class ValueConverters
{
    public static ValueConverter Create(ColumnType type)
    {
        var scalar = type with { IsArray = false };
        return scalar.Scalar switch
        {
            ScalarType.Text or ScalarType.Varchar => Wrap(type, new TextConverter(scalar)),
            ScalarType.SmallInt => Wrap(type, new IntegerConverter<short>(scalar)),
            ScalarType.Integer => Wrap(type, new IntegerConverter<int>(scalar)),
            ScalarType.BigInt => Wrap(type, new IntegerConverter<long>(scalar)),
            ScalarType.Numeric => Wrap(type, new NumericConverter(scalar)),
            ScalarType.Real => Wrap(type, new FloatConverter<float>(scalar)),
            ScalarType.DoublePrecision => Wrap(type, new FloatConverter<double>(scalar)),
            ScalarType.Boolean => Wrap(type, new BooleanConverter(scalar)),
            ScalarType.Uuid => Wrap(type, new UuidConverter(scalar)),
            ScalarType.Date => Wrap(type, new DateConverter(scalar)),
            ScalarType.Time => Wrap(type, new TimeConverter(scalar)),
            ScalarType.Timestamp or ScalarType.TimestampTz => Wrap(type, new TimestampConverter(scalar)),
            ScalarType.Jsonb or ScalarType.Json => Wrap(type, new JsonTextConverter(scalar)),
            ScalarType.Bytea => Wrap(type, new ByteaConverter(scalar)),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unmapped column type"),
        };
    }

    private static ValueConverter Wrap<T>(ColumnType type, ScalarConverter<T> scalar) =>
        type.IsArray ? new ArrayConverter<T>(type, scalar) : scalar;
}
