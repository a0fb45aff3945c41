using System.Buffers.Binary;
using System.Net.NetworkInformation;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>
/// Arrays of the issue #24 types and macaddr8: the binary COPY array header (dimensions, null flag, element OID) byte
/// for byte, the per-database element OIDs of enum[] and citext[], and what an array element may not be. Conversions
/// go through the single-pass reader, the document path and the tuple encoder alike (<see cref="ConverterKit.Convert"/>);
/// PostgresArrayTypesTests stores them in Postgres.
/// </summary>
public class PostgresArrayTypeTests
{
    private const uint EnumOid = 16_385;
    private const uint CitextOid = 24_577;
    private static readonly string[] s_mixedCase = ["MiXeD", "", "ü"];

    [Theory]
    [InlineData("inet[]", "[\"10.0.0.1\"]", 869)]
    [InlineData("cidr[]", "[\"10.0.0.0/8\"]", 650)]
    [InlineData("macaddr[]", "[\"08:00:2b:01:02:03\"]", 829)]
    [InlineData("macaddr8[]", "[\"08:00:2b:01:02:03:04:05\"]", 774)]
    [InlineData("interval[]", "[\"P1D\"]", 1186)]
    [InlineData("int4range[]", "[\"[1,2)\"]", 3904)]
    [InlineData("numrange[]", "[\"[1.5,2)\"]", 3906)]
    [InlineData("tsrange[]", "[\"[2024-01-01T00:00:00,)\"]", 3908)]
    [InlineData("tstzrange[]", "[\"[2024-01-01T00:00:00Z,)\"]", 3910)]
    [InlineData("daterange[]", "[\"[2024-01-01,)\"]", 3912)]
    [InlineData("int8range[]", "[\"[1,2)\"]", 3926)]
    [InlineData("numeric[]", "[\"NaN\"]", 1700)]
    [InlineData("enum(order_status)[]", "[\"new\"]", EnumOid)]
    [InlineData("citext[]", "[\"Hello\"]", CitextOid)]
    public void An_array_header_carries_one_dimension_no_nulls_and_the_element_type_oid(string type, string json, uint elementOid)
    {
        var field = EncodedField(type, json);

        Assert.Equal(1, Int32At(field, 0)); // dimensions
        Assert.Equal(0, Int32At(field, 4)); // has nulls
        Assert.Equal(elementOid, (uint)Int32At(field, 8));
        Assert.Equal(1, Int32At(field, 12)); // length of the dimension
        Assert.Equal(1, Int32At(field, 16)); // its lower bound
    }

    [Fact]
    public void An_enum_array_is_its_labels_as_text_after_the_header_with_the_oid_read_from_the_database()
    {
        var field = EncodedField("enum(order_status)[]", "[\"new\", \"in progress\"]");

        byte[] expected =
        [
            0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x40, 0x01, 0, 0, 0, 2, 0, 0, 0, 1,
            0, 0, 0, 3, .. "new"u8,
            0, 0, 0, 11, .. "in progress"u8,
        ];
        Assert.Equal(expected, field);
    }

    [Theory]
    [InlineData("enum(order_status)[]", EnumOid)]
    [InlineData("citext[]", CitextOid)]
    [InlineData("macaddr8[]", 774u)]
    public void An_empty_array_has_no_dimensions_but_still_names_its_element_type(string type, uint elementOid)
    {
        var field = EncodedField(type, "[]");

        Assert.Equal(12, field.Length);
        Assert.Equal(0, Int32At(field, 0));
        Assert.Equal(0, Int32At(field, 4));
        Assert.Equal(elementOid, (uint)Int32At(field, 8));
    }

    [Fact]
    public void Encoding_an_enum_or_citext_array_before_the_table_check_read_its_element_oid_is_refused_as_a_bug_not_sent()
    {
        foreach (var type in new[] { "enum(order_status)[]", "citext[]" })
        {
            var mapping = MappingOf(Column("c", "value.x", type, nullable: true));
            var values = new object?[1];
            Assert.Null(new MessageConverter(mapping, singlePass: false).TryConvert(Message("{\"x\": [\"a\"]}"), values));

            var error = Assert.Throws<InvalidOperationException>(() => new CopyRowEncoder(mapping, [0]).Encode(values, new CopyBuffer()));
            Assert.Contains("was not read from the database", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Enum_and_citext_array_types_parse_with_a_per_database_element_oid_and_still_compare_equal()
    {
        var checkedType = ColumnType.Parse("enum(order_status)[]");
        checkedType.ElementOid!.Resolve(EnumOid);

        Assert.Equal(ColumnType.Parse("enum(order_status)[]"), checkedType);
        Assert.Equal(ScalarType.Enum, checkedType.Scalar);
        Assert.True(checkedType.IsArray);
        Assert.Equal("order_status", checkedType.EnumType!.Name);
        Assert.NotNull(ColumnType.Parse("citext[]").ElementOid);
        Assert.Null(ColumnType.Parse("citext").ElementOid);
        Assert.Null(ColumnType.Parse("enum(order_status)").ElementOid);
        Assert.Null(ColumnType.Parse("inet[]").ElementOid);
    }

    [Fact]
    public void An_enum_array_element_outside_the_labels_fails_naming_the_column_the_index_and_the_labels()
    {
        var mapping = Checked(MappingOf(Column("c", "value.x", "enum(order_status)[]", nullable: true)));
        mapping.Columns[0].Type.EnumType!.ResolveLabels(["new", "in progress"]);

        var (_, error) = Convert(mapping, Message("{\"x\": [\"new\", \"shipped\"]}"));

        Assert.NotNull(error);
        Assert.Equal(ConversionErrorKind.WrongType, error.Kind);
        Assert.Equal("value.x: element [1]: 'shipped' is not a label of enum order_status ('new', 'in progress')", error.Message);
    }

    [Theory]
    [InlineData("enum(order_status)[]")]
    [InlineData("citext[]")]
    [InlineData("macaddr8[]")]
    [InlineData("tstzrange[]")]
    public void A_null_element_fails_naming_the_column_and_its_index(string type)
    {
        var (_, error) = Convert(Checked(MappingOf(Column("c", "value.x", type, nullable: true))), Message("{\"x\": [null]}"));

        Assert.NotNull(error);
        Assert.StartsWith("value.x: element [0] is null", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Citext_arrays_keep_the_case_of_each_element()
    {
        var (values, error) = Convert(Checked(MappingOf(Column("c", "value.x", "citext[]"))), Message("{\"x\": [\"MiXeD\", \"\", \"ü\"]}"));

        Assert.Null(error);
        Assert.Equal(s_mixedCase, values[0]);
    }

    [Theory]
    [InlineData("\"08:00:2b:01:02:03:04:05\"", "08002B0102030405")]
    [InlineData("\"08-00-2B-01-02-03-04-05\"", "08002B0102030405")]
    [InlineData("\"08002b:0102030405\"", "08002B0102030405")]
    [InlineData("\"0800.2b01.0203.0405\"", "08002B0102030405")]
    [InlineData("\"08002b0102030405\"", "08002B0102030405")]
    [InlineData("\" 08002b0102030405 \"", "08002B0102030405")]
    [InlineData("\"08:00:2b:01:02:03\"", "08002BFFFE010203")]
    [InlineData("\"0800.2b01.0203\"", "08002BFFFE010203")]
    [InlineData("\"08002b010203\"", "08002BFFFE010203")]
    [InlineData("\"ff:ff:ff:ff:ff:ff:ff:ff\"", "FFFFFFFFFFFFFFFF")]
    [InlineData("\"00:00:00:00:00:00:00:00\"", "0000000000000000")]
    public void Macaddr8_takes_eight_bytes_and_widens_six_as_postgres_does(string json, string hex)
    {
        Assert.Equal(PhysicalAddress.Parse(hex), Ok("macaddr8", json));
    }

    [Theory]
    [InlineData("\"08:00:2b:01:02:03:04\"")]
    [InlineData("\"08:00:2b:01:02:03:04:05:06\"")]
    [InlineData("\"08:00:2b-01:02:03:04:05\"")]
    [InlineData("\"08:00:2b:01:02:03:04:05:\"")]
    [InlineData("\"08:00:2b:01:02:03:04:5\"")]
    [InlineData("\"08:00:2b:01:02:03:04:0g\"")]
    [InlineData("\"08::00:2b:01:02:03:04:05\"")]
    [InlineData("\"\"")]
    [InlineData("8002")]
    public void Macaddr8_refuses_other_byte_counts_mixed_separators_and_non_hex(string json)
    {
        var error = Fails("macaddr8", json, ConversionErrorKind.WrongType);
        Assert.Contains("macaddr8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_macaddr8_field_is_its_eight_bytes()
    {
        Assert.Equal([0, 0, 0, 8, 0x08, 0x00, 0x2b, 0xff, 0xfe, 0x01, 0x02, 0x03], EncodedField("macaddr8", "\"08:00:2b:01:02:03\"", withLength: true));
    }

    /// <summary>The field's bytes (after its length, unless <paramref name="withLength"/>), with the per-database OIDs resolved as the table check would.</summary>
    private static byte[] EncodedField(string type, string json, bool withLength = false)
    {
        var mapping = Checked(MappingOf(Column("c", "value.x", type)));
        var (values, error) = Convert(mapping, Message($"{{\"x\": {json}}}"));
        Assert.Null(error);
        var output = new CopyBuffer();
        CopyRowEncoder.WriteField(output, values[0], mapping.Columns[0].Type);
        var bytes = output.WrittenMemory.ToArray();
        Assert.Equal(bytes.Length - 4, Int32At(bytes, 0));
        return withLength ? bytes : bytes[4..];
    }

    private static MappingConfig Checked(MappingConfig mapping)
    {
        foreach (var column in mapping.Columns)
        {
            column.Type.ElementOid?.Resolve(column.Type.EnumType is null ? CitextOid : EnumOid);
        }

        return mapping;
    }

    private static int Int32At(byte[] bytes, int offset) => BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(offset));
}
