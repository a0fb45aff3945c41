using System.Net;
using System.Net.NetworkInformation;
using NpgsqlTypes;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>
/// inet, cidr, macaddr, interval, citext, enum, ranges and unconstrained numeric: what each accepts and why it refuses
/// the rest. Every case also goes through the single-pass reader, the document path and the COPY tuple encoder
/// (<see cref="ConverterKit.Convert"/>); PostgresTypesTests stores them in Postgres.
/// </summary>
public class PostgresTypeConversionTests
{
    [Theory]
    [InlineData("\"192.168.1.5/24\"", "192.168.1.5", 24)]
    [InlineData("\"10.0.0.1\"", "10.0.0.1", 32)]
    [InlineData("\"0.0.0.0/0\"", "0.0.0.0", 0)]
    [InlineData("\"::1\"", "::1", 128)]
    [InlineData("\"2001:db8::1/64\"", "2001:db8::1", 64)]
    [InlineData("\" ::/0 \"", "::", 0)]
    public void Inet_takes_ipv4_and_ipv6_addresses_with_an_optional_prefix_and_host_bits(string json, string address, int bits)
    {
        Assert.Equal(new NpgsqlInet(IPAddress.Parse(address), (byte)bits), Ok("inet", json));
    }

    [Theory]
    [InlineData("\"10.0.0.256\"")]
    [InlineData("\"1\"")]
    [InlineData("\"10.1\"")]
    [InlineData("\"0x7f.0.0.1\"")]
    [InlineData("\"10.0.0.1/33\"")]
    [InlineData("\"::1/129\"")]
    [InlineData("\"fe80::1%eth0\"")]
    [InlineData("\"10.0.0.1/\"")]
    [InlineData("167772161")]
    public void Inet_refuses_what_is_not_a_dotted_quad_or_ipv6_address_or_has_a_prefix_too_long(string json)
    {
        Fails("inet", json, ConversionErrorKind.WrongType);
    }

    [Theory]
    [InlineData("\"10.0.0.0/8\"", "10.0.0.0", 8)]
    [InlineData("\"192.168.1.5\"", "192.168.1.5", 32)]
    [InlineData("\"::/0\"", "::", 0)]
    [InlineData("\"::1/128\"", "::1", 128)]
    public void Cidr_takes_networks(string json, string address, int bits)
    {
        Assert.Equal(new IPNetwork(IPAddress.Parse(address), bits), Ok("cidr", json));
    }

    [Theory]
    [InlineData("\"10.1.2.3/8\"", "/8")]
    [InlineData("\"2001:db8::1/32\"", "/32")]
    [InlineData("\"0.0.0.1/0\"", "/0")]
    public void Cidr_refuses_an_address_with_host_bits_set_and_says_to_use_inet(string json, string prefix)
    {
        var error = Fails("cidr", json, ConversionErrorKind.WrongType);
        Assert.Contains($"bits are set to the right of the {prefix} prefix", error.Message, StringComparison.Ordinal);
        Assert.Contains("inet", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("08:00:2b:01:02:03")]
    [InlineData("08-00-2B-01-02-03")]
    [InlineData("08002b:010203")]
    [InlineData("08002b-010203")]
    [InlineData("0800.2b01.0203")]
    [InlineData("0800-2b01-0203")]
    [InlineData("08002b010203")]
    public void Macaddr_takes_every_spelling_postgres_takes(string text)
    {
        Assert.Equal(PhysicalAddress.Parse("08-00-2B-01-02-03"), Ok("macaddr", $"\"{text}\""));
    }

    [Theory]
    [InlineData("08:00:2b:01:02")]
    [InlineData("08:00-2b:01:02:03")]
    [InlineData("08:00:2b:01:02:03:04:05")]
    [InlineData("0800.2b01-0203")]
    [InlineData("zz:00:2b:01:02:03")]
    public void Macaddr_refuses_other_lengths_mixed_separators_and_non_hex(string text)
    {
        Fails("macaddr", $"\"{text}\"", ConversionErrorKind.WrongType);
    }

    [Theory]
    [InlineData("\"P1Y2M3DT4H5M6.5S\"", 14, 3, 14_706_500_000L)]
    [InlineData("\"P1M\"", 1, 0, 0L)]
    [InlineData("\"P30D\"", 0, 30, 0L)]
    [InlineData("\"PT720H\"", 0, 0, 2_592_000_000_000L)]
    [InlineData("\"P2W\"", 0, 14, 0L)]
    [InlineData("\"-P1Y1D\"", -12, -1, 0L)]
    [InlineData("\"P-1DT2H\"", 0, -1, 7_200_000_000L)]
    [InlineData("\"PT0,5S\"", 0, 0, 500_000L)]
    [InlineData("\"PT-0.000001S\"", 0, 0, -1L)]
    [InlineData("3600000000", 0, 0, 3_600_000_000L)]
    [InlineData("-9223372036854775808", 0, 0, long.MinValue)]
    [InlineData("1e3", 0, 0, 1000L)]
    [InlineData("\"1 year 2 mons 3 days 04:05:06.789\"", 14, 3, 14_706_789_000L)]
    [InlineData("\"-1 days +02:03:00\"", 0, -1, 7_380_000_000L)]
    [InlineData("\"@ 1 hour 30 mins ago\"", 0, 0, -5_400_000_000L)]
    [InlineData("\"1.5 hours\"", 0, 0, 5_400_000_000L)]
    [InlineData("\"-00:00:01\"", 0, 0, -1_000_000L)]
    [InlineData("\"178956970 years\"", 2_147_483_640, 0, 0L)]
    public void Interval_keeps_months_days_and_microseconds_apart_from_iso_durations_micro_durations_and_postgres_text(string json, int months, int days, long micros)
    {
        Assert.Equal(new NpgsqlInterval(months, days, micros), Ok("interval", json));
    }

    [Theory]
    [InlineData("\"P\"")]
    [InlineData("\"PT\"")]
    [InlineData("\"P1.5D\"")]
    [InlineData("\"PT1.0000001S\"")]
    [InlineData("\"1 fortnight\"")]
    [InlineData("\"1.5 days\"")]
    [InlineData("1.5")]
    [InlineData("true")]
    public void Interval_refuses_fractions_it_would_have_to_round_and_unknown_units(string json)
    {
        Fails("interval", json, ConversionErrorKind.WrongType);
    }

    [Theory]
    [InlineData("\"P178956971Y\"")]
    [InlineData("\"PT2562047789H\"")]
    [InlineData("9223372036854775808")]
    public void Interval_beyond_its_fields_is_out_of_range(string json)
    {
        Fails("interval", json, ConversionErrorKind.OutOfRange);
    }

    [Fact]
    public void Citext_converts_like_text()
    {
        Assert.Equal("MiXeD Case", Ok("citext", "\"MiXeD Case\""));
        Assert.Equal("12", Ok("citext", "12"));
        Fails("citext", "\"a\\u0000b\"", ConversionErrorKind.WrongType);
    }

    [Fact]
    public void Enum_values_outside_the_labels_read_from_the_database_fail_with_the_labels()
    {
        var mapping = MappingOf(Column("c", "value.x", "enum(order_status)", nullable: true));
        mapping.Columns[0].Type.EnumType!.ResolveLabels(["new", "in progress", "it's \"done\""]);
        Assert.Equal("it's \"done\"", Convert(mapping, Message("{\"x\": \"it's \\\"done\\\"\"}")).Values[0]);
        Assert.Equal("in progress", Convert(mapping, Message("{\"x\": \"in progress\"}")).Values[0]);

        var (_, error) = Convert(mapping, Message("{\"x\": \"In Progress\"}"));
        Assert.NotNull(error);
        Assert.Equal(ConversionErrorKind.WrongType, error.Kind);
        Assert.Equal("value.x: 'In Progress' is not a label of enum order_status ('new', 'in progress', 'it's \"done\"')", error.Message);
    }

    [Fact]
    public void Enum_values_before_the_labels_are_known_are_left_to_postgres()
    {
        Assert.Equal("anything", Ok("enum(order_status)", "\"anything\""));
        Fails("enum(order_status)", "\"\"", ConversionErrorKind.WrongType);
        Fails("enum(order_status)", "1", ConversionErrorKind.WrongType);
    }

    [Fact]
    public void Ranges_take_postgres_range_text_with_empty_unbounded_and_quoted_bounds()
    {
        Assert.Equal(new NpgsqlRange<int>(1, true, false, 5, false, false), Ok("int4range", "\"[1,5)\""));
        Assert.Equal(new NpgsqlRange<int>(0, false, true, 10, true, false), Ok("int4range", "\"(,10]\""));
        Assert.Equal(new NpgsqlRange<long>(0, false, true, 0, false, true), Ok("int8range", "\"(,)\""));
        Assert.True(((NpgsqlRange<int>)Ok("int4range", "\" EMPTY \"")!).IsEmpty);
        Assert.Equal(
            new NpgsqlRange<DateTime>(new DateTime(2024, 1, 1, 10, 0, 0), true, false, new DateTime(2024, 1, 2), false, false),
            Ok("tsrange", "\"[\\\"2024-01-01T10:00:00\\\",\\\"2024-01-02T00:00:00\\\")\""));
        Assert.Equal(new NpgsqlRange<DateOnly>(new DateOnly(2024, 1, 1), true, false, default, false, true), Ok("daterange", "\"[2024-01-01,)\""));
        Assert.Equal(new NpgsqlRange<PgNumeric>(new PgNumeric(1.5m), false, false, new PgNumeric(2.25m), true, false), Ok("numrange", "\"(1.5,2.25]\""));
    }

    [Theory]
    [InlineData("int4range", "\"[1,5\"", "range text")]
    [InlineData("int4range", "\"[1,2,3)\"", "range text")]
    [InlineData("int4range", "\"1,5\"", "range text")]
    [InlineData("int4range", "\"[a,5)\"", "lower bound of int4range")]
    [InlineData("int4range", "\"[1,2147483648)\"", "upper bound of int4range")]
    [InlineData("daterange", "\"[2024-02-30,)\"", "lower bound of daterange")]
    [InlineData("int4range", "[1, 5]", "is not a valid int4range")]
    public void Ranges_refuse_malformed_text_and_bounds_their_element_type_refuses(string type, string json, string reason)
    {
        var (_, error) = One(type, json);
        Assert.NotNull(error);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_range_whose_lower_bound_is_above_its_upper_bound_is_out_of_range()
    {
        Fails("int4range", "\"[5,1)\"", ConversionErrorKind.OutOfRange);
        Fails("tstzrange", "\"[2024-01-02T00:00:00Z,2024-01-01T00:00:00Z]\"", ConversionErrorKind.OutOfRange);
    }

    [Fact]
    public void Arrays_of_the_new_types_convert_element_by_element()
    {
        Assert.Equal(new[] { new NpgsqlInet(IPAddress.Parse("10.0.0.1"), 32), new NpgsqlInet(IPAddress.IPv6Loopback, 64) }, Ok("inet[]", "[\"10.0.0.1\", \"::1/64\"]"));
        Assert.Equal(new[] { new NpgsqlInterval(0, 1, 0), new NpgsqlInterval(0, 0, 60_000_000) }, Ok("interval[]", "[\"P1D\", 60000000]"));
        var error = Fails("cidr[]", "[\"10.0.0.0/8\", \"10.0.0.1/8\"]", ConversionErrorKind.WrongType);
        Assert.StartsWith("value.x: element [1]: ", error.Message, StringComparison.Ordinal);
    }
}
