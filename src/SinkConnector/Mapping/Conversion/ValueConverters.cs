using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.Conversion;

/// <summary>Picks the converter for a column type once, when the mapping is loaded.</summary>
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
            ScalarType.Numeric when scalar.Precision is null => Wrap(type, new ArbitraryNumericConverter(scalar)),
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
            ScalarType.Citext => Wrap(type, new TextConverter(scalar)),
            ScalarType.Enum => Wrap(type, new EnumConverter(scalar)),
            ScalarType.Inet => Wrap(type, new InetConverter(scalar)),
            ScalarType.Cidr => Wrap(type, new CidrConverter(scalar)),
            ScalarType.MacAddr => Wrap(type, new MacAddrConverter(scalar)),
            ScalarType.MacAddr8 => Wrap(type, new MacAddr8Converter(scalar)),
            ScalarType.Interval => Wrap(type, new IntervalConverter(scalar)),
            ScalarType.Int4Range => Wrap(type, new RangeConverter<int>(scalar, new IntegerConverter<int>(Element(scalar)))),
            ScalarType.Int8Range => Wrap(type, new RangeConverter<long>(scalar, new IntegerConverter<long>(Element(scalar)))),
            ScalarType.NumRange => Wrap(type, new RangeConverter<PgNumeric>(scalar, new ArbitraryNumericConverter(Element(scalar)))),
            ScalarType.TsRange or ScalarType.TstzRange => Wrap(type, new RangeConverter<DateTime>(scalar, new TimestampConverter(Element(scalar)))),
            ScalarType.DateRange => Wrap(type, new RangeConverter<DateOnly>(scalar, new DateConverter(Element(scalar)))),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unmapped column type"),
        };
    }

    private static ColumnType Element(ColumnType range) => new(range.RangeElement!.Value, null, null, null, false);

    private static ValueConverter Wrap<T>(ColumnType type, ScalarConverter<T> scalar) =>
        type.IsArray ? new ArrayConverter<T>(type, scalar) : scalar;
}
