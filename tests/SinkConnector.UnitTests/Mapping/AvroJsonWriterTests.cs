using System.Text;
using System.Text.Json;
using SinkConnector.Mapping.Encodings;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>Avro binary data the Confluent serializer does not write but other producers may: block forms, limits, bad indexes.</summary>
public class AvroJsonWriterTests
{
    private static string Decode(string schema, params byte[] data)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            AvroJsonWriter.Write(Avro.Schema.Parse(schema), data, writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public void An_array_block_with_a_negative_count_and_its_byte_size_is_read_like_a_plain_block()
    {
        // count -2 (zig-zag 3), block size 2 bytes (4), items 1 and 2 (2, 4), then the end (0), then a plain block of one.
        Assert.Equal("[1,2]", Decode("""{"type": "array", "items": "long"}""", 3, 4, 2, 4, 0));
        Assert.Equal("""{"a":1}""", Decode("""{"type": "map", "values": "int"}""", 2, 2, (byte)'a', 2, 0));
    }

    [Fact]
    public void A_recursive_schema_nested_deeper_than_the_limit_is_refused_instead_of_exhausting_the_stack()
    {
        const string list = """{"type": "record", "name": "Node", "fields": [{"name": "next", "type": ["null", "Node"]}]}""";
        var shallow = Enumerable.Repeat((byte)2, 10).Append((byte)0).ToArray();
        var deep = Enumerable.Repeat((byte)2, 200).Append((byte)0).ToArray();

        Assert.StartsWith("""{"next":{"next":""", Decode(list, shallow), StringComparison.Ordinal);
        var e = Assert.Throws<AvroDataException>(() => Decode(list, deep));
        Assert.Contains($"deeper than {AvroJsonWriter.MaxDepth} levels", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type": "enum", "name": "E", "symbols": ["A", "B"]}""", new byte[] { 4 }, "2 is not a symbol index of enum E")]
    [InlineData("""["null", "long"]""", new byte[] { 4 }, "2 is not a branch of union")]
    [InlineData("\"string\"", new byte[] { 4, 0xC3, 0x28 }, "not valid UTF-8")]
    [InlineData("\"long\"", new byte[] { 0x80, 0x80 }, "ends inside a number")]
    [InlineData("\"bytes\"", new byte[] { 20, 1 }, "a length of 10 does not fit")]
    [InlineData("\"boolean\"", new byte[] { 7 }, "7 is not an Avro boolean")]
    [InlineData("""{"type": "int", "logicalType": "date"}""", new byte[] { 0xFE, 0xFF, 0xFF, 0xFF, 0x0F }, "out of range")]
    public void Data_that_does_not_fit_its_schema_is_refused_with_the_reason(string schema, byte[] data, string reason)
    {
        var e = Assert.Throws<AvroDataException>(() => Decode(schema, data));

        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF }, 2, "-0.01")]
    [InlineData(new byte[0], 2, "0.00")]
    [InlineData(new byte[] { 0x30, 0x39 }, 0, "12345")]
    [InlineData(new byte[] { 0x30, 0x39 }, -2, "1234500")]
    [InlineData(new byte[] { 0x30, 0x39 }, 7, "0.0012345")]
    [InlineData(new byte[] { 0x80, 0, 0, 0, 0, 0, 0, 0, 0 }, 3, "-2361183241434822606.848")]
    public void Decimals_are_written_as_their_exact_digits(byte[] unscaled, int scale, string expected) =>
        Assert.Equal(expected, AvroJsonWriter.DecimalText(unscaled, scale));

    [Fact]
    public void Floats_keep_their_own_shortest_text_and_non_finite_doubles_become_words()
    {
        Assert.Equal("1.1", Decode("\"float\"", BitConverter.GetBytes(1.1f)));
        Assert.Equal("\"NaN\"", Decode("\"double\"", BitConverter.GetBytes(double.NaN)));
        Assert.Equal("\"-Infinity\"", Decode("\"double\"", BitConverter.GetBytes(double.NegativeInfinity)));
    }
}
