using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Mapping;

public class TypeConversionTests
{
    [Theory]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("\"42\"", 42L)]
    [InlineData("5.0", 5L)]
    [InlineData("1e3", 1000L)]
    public void Bigint_accepts_integral_numbers_and_integer_strings(string json, long expected)
    {
        Assert.Equal(expected, Ok("bigint", json));
    }

    [Theory]
    [InlineData("9223372036854775808")]
    [InlineData("-9223372036854775809")]
    [InlineData("\"99999999999999999999\"")]
    [InlineData("1e30")]
    public void Bigint_overflow_is_out_of_range(string json)
    {
        Fails("bigint", json, ConversionErrorKind.OutOfRange);
    }

    [Theory]
    [InlineData("5.5")]
    [InlineData("\"abc\"")]
    [InlineData("true")]
    [InlineData("{\"a\":1}")]
    [InlineData("[1]")]
    public void Bigint_from_non_integers_is_wrong_type(string json)
    {
        Fails("bigint", json, ConversionErrorKind.WrongType);
    }

    [Fact]
    public void Smaller_integers_check_their_own_range()
    {
        Assert.Equal((short)32767, Ok("smallint", "32767"));
        Fails("smallint", "32768", ConversionErrorKind.OutOfRange);
        Assert.Equal(int.MinValue, Ok("integer", "-2147483648"));
        Fails("integer", "2147483648", ConversionErrorKind.OutOfRange);
    }

    [Fact]
    public void Numeric_keeps_28_significant_digits_exactly()
    {
        Assert.Equal(new PgNumeric(decimal.Parse("1234567890.123456789012345678", System.Globalization.CultureInfo.InvariantCulture)), Ok("numeric", "1234567890.123456789012345678"));
        Assert.Equal(new PgNumeric(79228162514264337593543950335m), Ok("numeric", "79228162514264337593543950335"));
        Assert.Equal(decimal.Parse("1234567890.123456789012345678", System.Globalization.CultureInfo.InvariantCulture), Ok("numeric(38,18)", "1234567890.123456789012345678"));
    }

    [Fact]
    public void Numeric_never_goes_through_floating_point()
    {
        // As doubles, 0.1 + 0.2 is 0.30000000000000004; as decimals read from the JSON text it stays exact.
        var a = ((PgNumeric)Ok("numeric", "0.1")!).Small;
        var b = (decimal)Ok("numeric(10,2)", "0.2")!;
        Assert.Equal(0.3m, a + b);
        Assert.Equal(new PgNumeric(0.30000000000000004m), Ok("numeric", "0.30000000000000004"));
        Assert.Equal(12.34m, Ok("numeric(12,2)", "\"12.34\""));
    }

    [Theory]
    [InlineData("1e40")]
    [InlineData("79228162514264337593543950336")]
    [InlineData("0.12345678901234567890123456789012")]
    [InlineData("1e-40")]
    public void Numeric_with_precision_beyond_decimal_is_out_of_range_not_rounded(string json)
    {
        // Unconstrained numeric keeps such values exactly (ArbitraryNumericTests); numeric(p,s) converts through decimal.
        Fails("numeric(1000,50)", json, ConversionErrorKind.OutOfRange);
    }

    [Theory]
    [InlineData("12.345", "12.35")]
    [InlineData("-12.345", "-12.35")]
    [InlineData("12.344", "12.34")]
    [InlineData("0.005", "0.01")]
    [InlineData("9999999999.994", "9999999999.99")]
    public void Numeric_rounds_to_the_column_scale_like_postgres(string json, string expected)
    {
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), Ok("numeric(12,2)", json));
    }

    [Fact]
    public void Numeric_scale_rounding_applies_to_long_inputs_too()
    {
        // 30 fractional digits: beyond what decimal parses exactly, but the column only keeps 2 of them.
        Assert.Equal(1.24m, Ok("numeric(12,2)", "1.235000000000000000000000000001"));
    }

    [Theory]
    [InlineData("10000000000")]
    [InlineData("9999999999.995")]
    [InlineData("-10000000000")]
    public void Numeric_with_too_many_integer_digits_is_out_of_range(string json)
    {
        Fails("numeric(12,2)", json, ConversionErrorKind.OutOfRange);
    }

    [Fact]
    public void Numeric_rejects_non_numbers()
    {
        Fails("numeric", "\"twelve\"", ConversionErrorKind.WrongType);
        Fails("numeric", "{}", ConversionErrorKind.WrongType);
    }

    [Fact]
    public void Real_and_double_precision()
    {
        Assert.Equal(1.5f, Ok("real", "1.5"));
        Assert.Equal(0.1, Ok("double precision", "0.1"));
        Assert.Equal(2.5, Ok("double precision", "\"2.5\""));
        Assert.Equal(double.NaN, Ok("double precision", "\"NaN\""));
        Assert.Equal(double.PositiveInfinity, Ok("double precision", "\"Infinity\""));
        Assert.Equal(float.NegativeInfinity, Ok("real", "\"-Infinity\""));
        Fails("real", "1e39", ConversionErrorKind.OutOfRange);
        Fails("double precision", "1e309", ConversionErrorKind.OutOfRange);
        Fails("double precision", "\"abc\"", ConversionErrorKind.WrongType);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData("\"TRUE\"", true)]
    [InlineData("\"false\"", false)]
    public void Boolean_from_json_booleans_and_strings(string json, bool expected)
    {
        Assert.Equal(expected, Ok("boolean", json));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("\"yes\"")]
    public void Boolean_rejects_anything_else(string json)
    {
        Fails("boolean", json, ConversionErrorKind.WrongType);
    }

    [Theory]
    [InlineData("\"5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b\"")]
    [InlineData("\"{5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b}\"")]
    [InlineData("\"5b6f2a7e3c1d4e8f9a0b1c2d3e4f5a6b\"")]
    public void Uuid_from_any_standard_format(string json)
    {
        Assert.Equal(Guid.Parse("5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b"), Ok("uuid", json));
    }

    [Fact]
    public void Uuid_rejects_garbage()
    {
        Fails("uuid", "\"not-a-uuid\"", ConversionErrorKind.WrongType);
        Fails("uuid", "42", ConversionErrorKind.WrongType);
    }

    [Fact]
    public void Date_and_time()
    {
        Assert.Equal(new DateOnly(2024, 2, 29), Ok("date", "\"2024-02-29\""));
        Assert.Equal(new DateOnly(1970, 1, 2), Ok("date", "1"));
        Fails("date", "\"2023-02-29\"", ConversionErrorKind.WrongType);
        Fails("date", "\"01/03/2024\"", ConversionErrorKind.WrongType);
        Assert.Equal(new TimeOnly(13, 45, 30), Ok("time", "\"13:45:30\""));
        // Rounded to microseconds as Postgres rounds (TemporalRulesTests).
        Assert.Equal(new TimeOnly(13, 45, 30).Add(TimeSpan.FromTicks(1234570)), Ok("time", "\"13:45:30.1234567\""));
        Assert.Equal(new TimeOnly(13, 45), Ok("time", "\"13:45\""));
        Fails("time", "\"25:00:00\"", ConversionErrorKind.WrongType);
    }

    [Theory]
    [InlineData("\"2024-03-01T12:00:00+02:00\"")]
    [InlineData("\"2024-03-01T10:00:00Z\"")]
    [InlineData("\"2024-03-01T10:00:00\"")]
    [InlineData("\"2024-03-01 10:00:00+00\"")]
    [InlineData("1709287200000")]
    [InlineData("\"1709287200000\"")]
    public void Timestamptz_is_utc_from_iso_with_or_without_offset_or_epoch_millis(string json)
    {
        var value = Assert.IsType<DateTime>(Ok("timestamptz", json));
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc), value);
        Assert.Equal(DateTimeKind.Utc, value.Kind);
    }

    [Fact]
    public void Timestamptz_keeps_fractions_and_rounds_nanoseconds_to_microseconds()
    {
        var value = Assert.IsType<DateTime>(Ok("timestamptz", "\"2024-03-01T10:00:00.123456789Z\""));
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc).AddTicks(1234570), value);
    }

    [Fact]
    public void Timestamp_without_zone_is_unspecified_wall_time()
    {
        var plain = Assert.IsType<DateTime>(Ok("timestamp", "\"2024-03-01T10:00:00\""));
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0), plain);
        Assert.Equal(DateTimeKind.Unspecified, plain.Kind);

        // An offset is honoured by converting to UTC.
        var shifted = Assert.IsType<DateTime>(Ok("timestamp", "\"2024-03-01T12:00:00+02:00\""));
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0), shifted);
        Assert.Equal(DateTimeKind.Unspecified, shifted.Kind);
    }

    [Theory]
    [InlineData("\"yesterday\"")]
    [InlineData("\"03/01/2024 10:00\"")]
    [InlineData("1.5")]
    [InlineData("{}")]
    public void Timestamptz_rejects_other_shapes(string json)
    {
        Fails("timestamptz", json, ConversionErrorKind.WrongType);
    }

    [Fact]
    public void Timestamptz_epoch_beyond_datetime_is_out_of_range()
    {
        Fails("timestamptz", "9223372036854775807", ConversionErrorKind.OutOfRange);
    }

    [Fact]
    public void Text_takes_string_content_and_the_text_of_numbers_and_booleans()
    {
        Assert.Equal("héllo \"quoted\"", Ok("text", "\"h\\u00e9llo \\\"quoted\\\"\""));
        Assert.Equal("12.50", Ok("text", "12.50"));
        Assert.Equal("true", Ok("text", "true"));
        Fails("text", "{\"a\":1}", ConversionErrorKind.WrongType);
        Fails("text", "[1]", ConversionErrorKind.WrongType);
    }

    [Fact]
    public void Varchar_longer_than_its_length_is_out_of_range()
    {
        Assert.Equal("abcd", Ok("varchar(4)", "\"abcd\""));
        Fails("varchar(4)", "\"abcde\"", ConversionErrorKind.OutOfRange);

        // Postgres counts characters, not UTF-16 units: four emoji fit varchar(4).
        Assert.Equal("😀😀😀😀", Ok("varchar(4)", "\"😀😀😀😀\""));
    }

    [Theory]
    [InlineData("text")]
    [InlineData("varchar(10)")]
    [InlineData("jsonb")]
    public void Nul_characters_are_rejected_because_postgres_cannot_store_them(string type)
    {
        Fails(type, "\"a\\u0000b\"", ConversionErrorKind.WrongType);
    }

    [Fact]
    public void Json_accepts_nul_escapes_and_jsonb_ignores_an_escaped_backslash_before_u0000()
    {
        Assert.Equal("\"a\\u0000b\"", Ok("json", "\"a\\u0000b\""));
        Assert.Equal("\"a\\\\u0000b\"", Ok("jsonb", "\"a\\\\u0000b\""));
    }

    [Fact]
    public void Jsonb_keeps_the_original_text_including_whitespace_and_key_order()
    {
        const string original = "{ \"z\": 1,\n  \"a\": [1.50, 2e3],  \"m\": {\"y\":null} }";
        Assert.Equal(original, Ok("jsonb", original));
        Assert.Equal(original, Ok("json", original));
        Assert.Equal("12.50", Ok("jsonb", "12.50"));
        Assert.Equal("\"s\"", Ok("jsonb", "\"s\""));
    }

    [Fact]
    public void Bytea_from_base64()
    {
        Assert.Equal(new byte[] { 1, 2, 3, 255 }, Ok("bytea", "\"AQID/w==\""));
        Fails("bytea", "\"not base64!\"", ConversionErrorKind.WrongType);
        Fails("bytea", "12", ConversionErrorKind.WrongType);
    }

    [Fact]
    public void Arrays_become_typed_arrays()
    {
        IsArray(Ok("text[]", "[\"a\", \"b\", 12]"), "a", "b", "12");
        IsArray(Ok("bigint[]", "[1, 9223372036854775807, \"3\"]"), 1L, long.MaxValue, 3L);
        IsArray(Ok("numeric(4,1)[]", "[1.5]"), 1.5m);
        IsArray(Ok("boolean[]", "[true, false]"), true, false);
        IsArray<int>(Ok("integer[]", "[]"));
        IsArray(Ok("date[]", "[\"2024-03-01\"]"), new DateOnly(2024, 3, 1));
        IsArray(Ok("uuid[]", "[\"5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b\"]"), Guid.Parse("5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b"));
        IsArray(Ok("double precision[]", "[0.5]"), 0.5);
        IsArray(Ok("timestamptz[]", "[1709287200000]"), new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc));
    }

    private static void IsArray<T>(object? actual, params T[] expected) => Assert.Equal(expected, Assert.IsType<T[]>(actual));

    [Fact]
    public void Array_errors_name_the_element()
    {
        var error = Fails("bigint[]", "[1, \"x\"]", ConversionErrorKind.WrongType);
        Assert.Contains("[1]", error.Message, StringComparison.Ordinal);
        Fails("bigint[]", "[1, 9223372036854775808]", ConversionErrorKind.OutOfRange);
        Fails("text[]", "[\"a\", null]", ConversionErrorKind.WrongType);
        Fails("text[]", "\"a\"", ConversionErrorKind.WrongType);
    }
}
