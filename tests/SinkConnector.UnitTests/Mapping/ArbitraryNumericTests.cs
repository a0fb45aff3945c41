using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>numeric without precision: arbitrary precision from the number's own digits, never through floating point.</summary>
public class ArbitraryNumericTests
{
    [Theory]
    [InlineData("1e40", "10000000000000000000000000000000000000000")]
    [InlineData("79228162514264337593543950336", "79228162514264337593543950336")]
    [InlineData("0.12345678901234567890123456789012", "0.12345678901234567890123456789012")]
    [InlineData("1e-40", "0.0000000000000000000000000000000000000001")]
    [InlineData("-1.5e-40", "-0.00000000000000000000000000000000000000015")]
    [InlineData("\"+00012345678901234567890123456789.5000\"", "12345678901234567890123456789.5000")]
    public void Numbers_decimal_cannot_hold_keep_every_digit(string json, string text)
    {
        var value = (PgNumeric)Ok("numeric", json)!;
        Assert.Equal(text, value.Big);
    }

    [Fact]
    public void A_thousand_digit_number_is_kept_exactly()
    {
        var digits = string.Concat(Enumerable.Repeat("9876543210", 100));
        Assert.Equal($"{digits}.{digits}", ((PgNumeric)Ok("numeric", $"{digits}.{digits}")!).Big);
    }

    [Fact]
    public void Numbers_decimal_holds_stay_decimals_so_equal_numbers_are_equal_keys()
    {
        Assert.Equal(new PgNumeric(12.50m), Ok("numeric", "12.50"));
        Assert.Equal(new PgNumeric(1m), Ok("numeric", "1e0"));
        Assert.Equal(Ok("numeric", "1.0"), Ok("numeric", "\"1.000\""));
        var big = string.Concat(Enumerable.Repeat("7", 40));
        Assert.Equal(Ok("numeric", $"{big}.5"), Ok("numeric", $"\"{big}.500\""));
        Assert.Equal(Ok("numeric", $"{big}.5")!.GetHashCode(), Ok("numeric", $"\"{big}.500\"")!.GetHashCode());
    }

    [Theory]
    [InlineData("\"NaN\"", "NaN")]
    [InlineData("\"nan\"", "NaN")]
    [InlineData("\"Infinity\"", "Infinity")]
    [InlineData("\"-Infinity\"", "-Infinity")]
    [InlineData("\"-inf\"", "-Infinity")]
    public void NaN_and_the_infinities_are_postgres_numeric_values(string json, string text)
    {
        Assert.Equal(text, ((PgNumeric)Ok("numeric", json)!).Big);
    }

    [Theory]
    [InlineData("\"12abc\"")]
    [InlineData("\"1e\"")]
    [InlineData("\".\"")]
    [InlineData("\"--1\"")]
    [InlineData("true")]
    public void Non_numbers_are_the_wrong_type(string json)
    {
        Fails("numeric", json, ConversionErrorKind.WrongType);
    }

    [Theory]
    [InlineData("1e131073")]
    [InlineData("1e-16384")]
    [InlineData("1e9999999999")]
    public void Numbers_beyond_what_postgres_stores_are_out_of_range(string json)
    {
        Fails("numeric", json, ConversionErrorKind.OutOfRange);
    }
}
