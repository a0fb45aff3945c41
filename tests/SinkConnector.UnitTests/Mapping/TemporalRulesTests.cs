using System.Text;
using SinkConnector.Mapping;
using SinkConnector.Mapping.Conversion;
using SinkConnector.PgBinary;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>
/// The UTF-8 timestamp shortcut (<see cref="TemporalRules.TryParseRfc3339"/>) may decline any input, but whatever it
/// accepts must be exactly what the general ISO parser gives for the same text.
/// </summary>
public class TemporalRulesTests
{
    [Theory]
    [InlineData("2024-03-01T10:00:00Z", "2024-03-01T10:00:00.0000000Z")]
    [InlineData("2024-03-01T10:00:00", "2024-03-01T10:00:00.0000000Z")]
    [InlineData("2024-03-01 10:00:00.5Z", "2024-03-01T10:00:00.5000000Z")]
    [InlineData("2024-03-01T10:00:00.123+02:00", "2024-03-01T08:00:00.1230000Z")]
    [InlineData("2024-03-01T10:00:00.123456-05:30", "2024-03-01T15:30:00.1234560Z")]
    [InlineData("2024-03-01T10:00:00.123456789Z", "2024-03-01T10:00:00.1234570Z")]
    [InlineData("2024-02-29T23:59:59.9999999+14:00", "2024-02-29T10:00:00.0000000Z")]
    [InlineData("9999-12-31T23:59:59.9999994Z", "9999-12-31T23:59:59.9999990Z")]
    [InlineData("0001-01-01T00:00:00-01:00", "0001-01-01T01:00:00.0000000Z")]
    public void Common_shapes_take_the_shortcut_and_agree_with_the_general_parser(string text, string expected)
    {
        Assert.True(TemporalRules.TryParseRfc3339(Encoding.UTF8.GetBytes(text), out var fast));
        Assert.True(TemporalRules.TryParseIso(text, out var general));
        Assert.Equal(general, fast);
        Assert.Equal(expected, fast.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("2024-02-30T10:00:00Z")] // no such day
    [InlineData("2023-02-29T10:00:00Z")]
    [InlineData("2024-13-01T10:00:00Z")]
    [InlineData("2024-03-01T24:00:00Z")]
    [InlineData("2024-03-01T10:60:00Z")]
    [InlineData("2024-03-01T10:00:60Z")]
    [InlineData("0000-03-01T10:00:00Z")]
    [InlineData("0001-01-01T00:00:00+01:00")] // before DateTime.MinValue in UTC
    [InlineData("9999-12-31T23:00:00-01:00")] // after DateTime.MaxValue in UTC
    [InlineData("9999-12-31T23:59:59.9999995Z")] // rounds to the year 10000
    [InlineData("2024-03-01T10:00:00+14:01")]
    [InlineData("2024-03-01T10:00:00+02:60")]
    [InlineData("2024-03-01T10:00:00.Z")]
    [InlineData("2024-03-01T10:00:00+02")] // valid for the general parser, just not the shortcut's shape
    [InlineData("2024-03-01T10:00:00+0200")]
    [InlineData("2024-03-01T10:00Z")]
    [InlineData("2024-03-01t10:00:00z")]
    [InlineData(" 2024-03-01T10:00:00Z")]
    [InlineData("2024-03-01T10:00:00Z ")]
    [InlineData("2024-03-01T10:00:00ZZ")]
    [InlineData("２024-03-01T10:00:00Z")]
    [InlineData("1709287200000")]
    public void Other_inputs_are_left_to_the_general_parser(string text)
    {
        Assert.False(TemporalRules.TryParseRfc3339(Encoding.UTF8.GetBytes(text), out _));
    }

    /// <summary>
    /// Postgres 15's own answers (<c>SELECT '...'::timestamp</c>, <c>::timestamptz</c> with TimeZone UTC, <c>::time</c>):
    /// 7 or more fractional digits are rounded to the microsecond, half to even when the half is exact in binary, with
    /// carries into the next second and day. The shortcut, the general parser and time all agree with it.
    /// </summary>
    [Theory]
    [InlineData("2024-01-01 00:00:00.9999995", "2024-01-01T00:00:01.0000000")]
    [InlineData("2024-01-01 00:00:00.1234567", "2024-01-01T00:00:00.1234570")]
    [InlineData("2024-01-01 00:00:00.1234565", "2024-01-01T00:00:00.1234560")]
    [InlineData("2024-01-01 00:00:00.1234575", "2024-01-01T00:00:00.1234580")]
    [InlineData("2024-01-01 00:00:00.0000005", "2024-01-01T00:00:00.0000000")]
    [InlineData("2024-01-01 00:00:00.0000015", "2024-01-01T00:00:00.0000020")]
    [InlineData("2024-01-01 00:00:00.0000025", "2024-01-01T00:00:00.0000020")]
    [InlineData("2024-12-31 23:59:59.9999995", "2025-01-01T00:00:00.0000000")]
    [InlineData("2024-12-31 23:59:59.99999949999", "2024-12-31T23:59:59.9999990")]
    [InlineData("2024-01-01 00:00:00.123456789", "2024-01-01T00:00:00.1234570")]
    [InlineData("2024-01-01T00:00:00.1234565Z", "2024-01-01T00:00:00.1234560")]
    [InlineData("2024-01-01 23:59:59.9999995+01:00", "2024-01-01T23:00:00.0000000")]
    public void Fractions_beyond_microseconds_round_as_postgres_rounds_them(string text, string expectedUtc)
    {
        Assert.True(TemporalRules.TryParseRfc3339(Encoding.UTF8.GetBytes(text), out var fast));
        Assert.True(TemporalRules.TryParseIso(text, out var general));
        Assert.Equal(expectedUtc, fast.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(fast, general);
        // The general parser's other shapes (an offset of hours only) round the same way.
        Assert.True(TemporalRules.TryParseIso(text.EndsWith("+01:00", StringComparison.Ordinal) ? text[..^3] : text.TrimEnd('Z') + "+00", out var other));
        Assert.Equal(fast, other);
    }

    [Theory]
    [InlineData("00:00:00.9999995", "00:00:01")]
    [InlineData("00:00:00.1234567", "00:00:00.123457")]
    [InlineData("00:00:00.1234565", "00:00:00.123456")]
    [InlineData("00:00:00.0000025", "00:00:00.000002")]
    [InlineData("23:59:59.99999949999", "23:59:59.999999")]
    [InlineData("00:00:00.123456789", "00:00:00.123457")]
    public void Time_rounds_its_fraction_as_postgres_does(string text, string expected)
    {
        var converter = new TimeConverter(ColumnType.Parse("time"));
        Assert.True(converter.TryText(text, out var value, out var failure), failure.Message);
        Assert.Equal(TimeOnly.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), value);
    }

    [Fact]
    public void Time_that_rounds_to_24_00_is_out_of_range_not_midnight()
    {
        // Postgres stores 24:00:00, which TimeOnly cannot hold; wrapping to 00:00:00 would be a silent difference.
        Assert.False(new TimeConverter(ColumnType.Parse("time")).TryText("23:59:59.9999995", out _, out var failure));
        Assert.Equal(ConversionErrorKind.OutOfRange, failure.Kind);
    }

    [Fact]
    public void Generated_fractions_round_the_same_in_the_shortcut_and_the_general_parser()
    {
        var random = new Random(20261123);
        for (var i = 0; i < 20_000; i++)
        {
            var digits = string.Concat(Enumerable.Range(0, random.Next(1, 14)).Select(_ => random.Next(10) switch { < 3 => '9', < 5 => '5', < 7 => '0', var d => (char)('0' + d) }));
            var text = $"2024-12-31T23:59:{random.Next(58, 60):00}.{digits}{(random.Next(2) == 0 ? "Z" : "-00:30")}";
            Assert.True(TemporalRules.TryParseRfc3339(Encoding.UTF8.GetBytes(text), out var fast), text);
            Assert.True(TemporalRules.TryParseIso(text, out var general), text);
            Assert.True(fast == general, $"{text}: shortcut {fast:O}, general parser {general:O}");
            Assert.Equal(0, fast.Ticks % 10);
        }
    }

    [Fact]
    public void Generated_timestamps_parse_the_same_both_ways_whenever_the_shortcut_accepts()
    {
        var random = new Random(20261122);
        var accepted = 0;
        for (var i = 0; i < 50_000; i++)
        {
            var text = Generate(random);
            if (TemporalRules.TryParseRfc3339(Encoding.UTF8.GetBytes(text), out var fast))
            {
                accepted++;
                Assert.True(TemporalRules.TryParseIso(text, out var general), text);
                Assert.True(general == fast, $"{text}: shortcut {fast:O}, general parser {general:O}");
            }
        }

        // Most generated texts are in range; a shortcut that declined everything would prove nothing.
        Assert.InRange(accepted, 10_000, 50_000);
    }

    /// <summary>Mostly valid RFC 3339, with every field now and then just out of range or malformed.</summary>
    private static string Generate(Random random)
    {
        string Pick(params string[] choices) => choices[random.Next(choices.Length)];
        string Number(int min, int max, int width) => random.Next(min, max + 1).ToString(new string('0', width), System.Globalization.CultureInfo.InvariantCulture);
        var year = random.Next(10) == 0 ? Pick("0000", "0001", "9999", "1900", "2000", "2100") : Number(1970, 2100, 4);
        var month = random.Next(20) == 0 ? Pick("00", "13", "1x") : Number(1, 12, 2);
        var day = random.Next(20) == 0 ? Pick("00", "32") : Number(1, 31, 2);
        var hour = random.Next(20) == 0 ? "24" : Number(0, 23, 2);
        var minute = random.Next(20) == 0 ? "60" : Number(0, 59, 2);
        var second = random.Next(20) == 0 ? "60" : Number(0, 59, 2);
        var fraction = random.Next(3) == 0 ? "" : "." + string.Concat(Enumerable.Range(0, random.Next(0, 11)).Select(_ => (char)('0' + random.Next(10))));
        var zone = random.Next(6) switch
        {
            0 => "",
            1 => "Z",
            2 => Pick("+", "-") + Number(0, 15, 2) + ":" + Number(0, 60, 2),
            3 => Pick("+", "-") + Number(0, 14, 2),
            4 => Pick("z", " Z", "+0200", "+02:00:00"),
            _ => "Z",
        };
        return $"{year}-{month}-{day}{Pick("T", " ", "T", "t")}{hour}:{minute}:{second}{fraction}{zone}";
    }
}
