using System.Text;
using Confluent.Kafka;
using CsCheck;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.Mapping.Conversion;
using SinkConnector.PgBinary;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>
/// Bad input is an error of the message, never of the process: every key, value, header and timestamp, through every
/// format, source and column type, gives a value or a <see cref="ConversionError"/> (never an exception, never the
/// <see cref="ConversionErrorKind.Unexpected"/> of the last-resort guard), and whatever it gives can be stored in
/// Postgres (an error message becomes a dead letter's text). Property-based (CsCheck): generated JSON with hostile
/// strings (unpaired and paired surrogate escapes, NUL, other escapes), mutated (truncated, bytes flipped or inserted,
/// invalid UTF-8), random bytes, deep and large values. Iterations are sized for CI: the suite takes seconds.
/// </summary>
public class ConversionNeverThrowsTests
{
    private static readonly string[] s_types =
    [
        "text", "varchar(5)", "smallint", "integer", "bigint", "numeric", "numeric(6,2)", "real", "double precision", "boolean",
        "uuid", "date", "time", "timestamp", "timestamptz", "jsonb", "json", "bytea",
        "text[]", "varchar(3)[]", "integer[]", "bigint[]", "numeric(4,1)[]", "real[]", "boolean[]", "uuid[]", "date[]", "time[]", "timestamptz[]",
        "inet", "cidr", "macaddr", "interval", "citext", "enum(order_status)", "int4range", "int8range", "numrange", "tsrange", "daterange",
        "inet[]", "cidr[]", "macaddr[]", "interval[]", "tstzrange[]", "numeric[]",
    ];

    private static readonly (MessageFormat Format, string[] Sources)[] s_sources =
    [
        (MessageFormat.Json, ["value.s", "value.o.s", "value.a[0]", "value", "key", "key.s", "header.h", "timestamp"]),
        (MessageFormat.ConnectJson, ["value.s", "value", "key", "key.s", "header.h"]),
        (MessageFormat.Debezium, ["value.s", "value.o.s", "source.s", "key", "key.s", "header.h"]),
        (MessageFormat.Raw, ["value", "key", "key.s", "header.h"]),
    ];

    /// <summary>One mapping per format, source and type (a failing column stops a row, so each is alone), plus every value path of a type at once.</summary>
    private static readonly Converters[] s_converters = [.. BuildConverters()];

    // JSON string content (between the quotes) that converters decode: escapes of every kind, surrogates paired and not.
    private static readonly string[] s_pieces =
    [
        "a", "é", "😀", "\\n", "\\\"", "\\\\", "\\/", "\\u0000", "\\u00e9", "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\ud800\\ud800",
        "\\udbff\\udfff", "\\udfff\\udbff", "\\\\ud800", "\\ud800\\u0041", "\\uD800", "\\u12", "\\", "\\x", "\t", " ",
        "2024-03-01T10:00:00.9999995Z", "2024-03-01 23:59:59.123456789+01:00", "9999-12-31T23:59:59.9999999Z", "23:59:59.9999995",
        "12:00:00.1234565", "2024-02-29", "5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b", "{5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b}",
        "12345678901234567890", "-9223372036854775808", "1e400", "5.0", "0.125", "NaN", "-Infinity", "inf", "true", "FALSE",
        "AAEC", "QQ==", "[1]", "{}", "null",
    ];

    private static readonly Gen<string> s_stringContent = Gen.OneOf(s_pieces).Array[0, 5].Select(string.Concat);

    private static readonly Gen<string> s_scalar = Gen.Frequency(
        (6, s_stringContent.Select(s => $"\"{s}\"")),
        (2, Gen.Long.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (1, Gen.Double.Select(d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture))),
        (2, Gen.OneOf("1e400", "-0", "5.0", "1e3", "0.1234567", "-1.5", "32768", "2147483648", "1e-400", "123456789012345678901234567890.123",
            new string('9', 2_000), "true", "false", "null", "1709287200000", "-62135596800001", "253402300800000")));

    private static readonly Gen<string> s_name = Gen.Frequency(
        (6, Gen.OneOf("s", "o", "a", "op", "before", "after", "payload", "schema", "source", "x")),
        (2, s_stringContent));

    private static readonly Gen<string> s_json = Json(3);

    private static readonly Gen<string> s_envelope = Gen.Frequency(
        (3, s_json),
        (3, Object(3)),
        (2, Gen.Select(Gen.OneOf("\"c\"", "\"u\"", "\"d\"", "\"r\"", "\"\\ud800\"", "\"\\u0064\"", "1", "null"), Object(2), Object(2), Object(2),
            (op, before, after, source) => $"{{\"op\":{op},\"before\":{before},\"after\":{after},\"source\":{source}}}")),
        (1, Object(2).Select(o => $"{{\"schema\":{{}},\"payload\":{o}}}")),
        (1, Gen.Select(s_name, s_scalar, (n, v) => $"{{\"{n}\":{v},\"op\":\"d\",\"before\":{{\"s\":{v}}}}}")));

    private static readonly Gen<byte[]> s_invalidUtf8 = Gen.OneOf<byte[]>(
        [0xFF], [0xC3], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xED, 0xB0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xEF, 0xBB, 0xBF], [0x00]);

    /// <summary>JSON as generated, or with a mutation: cut short, a byte replaced, a byte or invalid UTF-8 inserted.</summary>
    private static readonly Gen<byte[]> s_document = Gen.Select(s_envelope, Gen.Int[0, 6], Gen.Int[0, int.MaxValue], Gen.Byte, s_invalidUtf8, (json, mutation, at, b, bad) =>
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var i = bytes.Length == 0 ? 0 : at % bytes.Length;
        return mutation switch
        {
            0 => bytes[..i],
            1 when bytes.Length > 0 => [.. bytes[..i], b, .. bytes[(i + 1)..]],
            2 => [.. bytes[..i], b, .. bytes[i..]],
            3 => [.. bytes[..i], .. bad, .. bytes[i..]],
            _ => bytes,
        };
    });

    private static readonly Gen<byte[]?> s_value = Gen.Frequency<byte[]?>(
        (12, s_document),
        (2, Gen.Byte.Array[0, 40]),
        (2, s_stringContent.Select(s => Encoding.UTF8.GetBytes(s))),
        (1, Gen.Const((byte[]?)null)),
        (1, Gen.Int[1, 3].Select(k => Deep(k == 1 ? 63 : k == 2 ? 65 : 5_000))),
        (1, Gen.OneOf(s_pieces).Select(p => Encoding.UTF8.GetBytes($"{{\"s\":\"{string.Concat(Enumerable.Repeat(p, 5_000 / (p.Length + 1)))}\"}}"))));

    private static readonly Gen<byte[]?> s_key = Gen.Frequency<byte[]?>(
        (4, s_document),
        (2, s_scalar.Select(s => Encoding.UTF8.GetBytes(s))),
        (2, s_stringContent.Select(s => Encoding.UTF8.GetBytes(s))),
        (1, Gen.Byte.Array[0, 20]),
        (2, Gen.Const((byte[]?)null)));

    private static readonly Gen<byte[]?> s_header = Gen.Frequency<byte[]?>(
        (3, s_stringContent.Select(s => Encoding.UTF8.GetBytes(s))),
        (2, s_json.Select(s => Encoding.UTF8.GetBytes(s))),
        (1, Gen.Byte.Array[0, 20]),
        (1, Gen.Select(s_stringContent, s_invalidUtf8, (s, bad) => (byte[])[.. Encoding.UTF8.GetBytes(s), .. bad])),
        (2, Gen.Const((byte[]?)null)));

    private static readonly Gen<long> s_timestamp = Gen.Frequency(
        (3, Gen.Long),
        (1, Gen.OneOf(0L, -62135596800000L, -62135596800001L, 253402300799999L, 253402300800000L, long.MinValue, long.MaxValue)));

    private static readonly Gen<ConsumeResult<byte[]?, byte[]?>> s_message = Gen.Select(s_value, s_key, s_header, s_timestamp, (value, key, header, timestamp) =>
    {
        var headers = new Headers();
        if (header is not null)
        {
            headers.Add("h", header);
        }

        return MessageBytes(value, key, headers, timestamp: new Timestamp(timestamp, TimestampType.CreateTime));
    });

    [Fact]
    public void Generated_and_mutated_messages_convert_or_fail_as_a_message_error_through_every_format_source_and_type()
    {
        s_message.Sample(message =>
        {
            foreach (var converters in s_converters)
            {
                CheckMessage(converters, message);
            }
        }, iter: 300, print: Print);
    }

    [Fact]
    public void Random_bytes_convert_or_fail_as_a_message_error_everywhere()
    {
        Gen.Select(Gen.Byte.Array[0, 24], Gen.Byte.Array[0, 12], Gen.Byte.Array[0, 12])
            .Sample((value, key, header) =>
            {
                var message = MessageBytes(value, key, new Headers { { "h", header } });
                foreach (var converters in s_converters)
                {
                    CheckMessage(converters, message);
                }
            }, iter: 150);
    }

    [Fact]
    public void Generated_text_converts_or_fails_as_a_message_error_for_every_type()
    {
        // Headers, plain-text keys and defaults reach the converters as text; strings here may hold any UTF-16, even unpaired surrogates.
        var converters = s_types.Select(t => ValueConverters.Create(ColumnType.Parse(t))).ToArray();
        Gen.Frequency(
                (3, s_stringContent),
                (2, s_json),
                (1, Gen.String),
                (1, Gen.Char.Array[0, 12].Select(c => new string(c))))
            .Sample(text =>
            {
                foreach (var converter in converters)
                {
                    if (converter.TryFromText(text, out var value, out var failure))
                    {
                        AssertStorable(value);
                        AssertStorableJson(converter.Type, value);
                    }
                    else
                    {
                        AssertStorable(failure.Message);
                    }
                }
            }, iter: 3_000);
    }

    [Theory]
    [InlineData("value.s", "text")]
    [InlineData("value.s", "bigint")]
    [InlineData("value.s", "timestamptz")]
    [InlineData("value.s", "uuid")]
    [InlineData("value.s", "text[]")]
    [InlineData("value.s", "jsonb")]
    [InlineData("value.s", "json")]
    [InlineData("value", "jsonb")]
    [InlineData("value.id", "bigint")] // only an unmapped property holds it
    public void A_value_with_an_unpaired_surrogate_escape_is_invalid_json(string from, string type)
    {
        foreach (var json in (string[])["""{"s":"\ud800","id":1}""", """{"id":1,"s":["\udc00"]}""", """{"\ud800":1,"id":1}""", """{"s":"a\ud800\u0041","id":1}"""])
        {
            var (_, error) = Convert(MappingOf(Column("c", from, type, nullable: true)), Message(json));
            Assert.NotNull(error);
            Assert.Equal(ConversionErrorKind.InvalidJson, error.Kind);
            Assert.Contains("invalid unicode escape", error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("""{"s":"\ud83d\ude00"}""", "😀")]
    [InlineData("""{"s":"\\ud800"}""", "\\ud800")]
    [InlineData("""{"s":"\udbff\udfff"}""", "\U0010FFFF")]
    public void Paired_surrogate_escapes_and_escaped_backslashes_are_text(string json, string expected)
    {
        var (values, error) = Convert(MappingOf(Column("c", "value.s", "text")), Message(json));
        Assert.Null(error);
        Assert.Equal(expected, values[0]);
    }

    [Theory]
    [InlineData(MessageFormat.Json, "key", "text")] // kept as its text, like any key that is not a JSON string
    [InlineData(MessageFormat.Json, "key.s", "text")]
    [InlineData(MessageFormat.Json, "key", "uuid")]
    [InlineData(MessageFormat.Debezium, "key.s", "bigint")]
    [InlineData(MessageFormat.ConnectJson, "key.s", "text")]
    public void A_key_with_an_unpaired_surrogate_escape_is_a_message_error_or_its_text(MessageFormat format, string from, string type)
    {
        var (values, error) = Convert(MappingOf(format, Column("c", from, type, nullable: true)), Message("""{"s":1}""", key: """{"s":"\ud800"}"""));
        if (error is null)
        {
            Assert.Equal("""{"s":"\ud800"}""", values[0]);
        }
        else
        {
            Assert.Equal(ConversionErrorKind.InvalidJson, error.Kind);
            Assert.Contains("invalid unicode escape", error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("""{"\ud800":1,"op":"d","before":{"id":1}}""")]
    [InlineData("""{"op":"\ud800","after":{"id":1}}""")]
    [InlineData("""{"payload":{"\udc00":1,"op":"c","after":{"id":1}}}""")]
    public void A_debezium_event_with_an_unpaired_surrogate_escape_is_invalid_json(string json)
    {
        var mapping = MappingOf(MessageFormat.Debezium, Column("id", "value.id", "bigint")) with { Mode = WriteMode.Upsert, Key = ["id"] };
        var converter = new MessageConverter(mapping);
        var error = converter.TryConvertChange(Message(json), new object?[1], out var change);
        Assert.Equal(ChangeKind.Write, change);
        Assert.Equal(ConversionErrorKind.InvalidJson, error?.Kind);
    }

    [Theory]
    [InlineData("header.h", "jsonb")]
    [InlineData("header.h", "text[]")]
    public void A_header_with_an_unpaired_surrogate_escape_is_not_valid_json_for_the_column(string from, string type)
    {
        var (_, error) = Convert(MappingOf(Column("c", from, type, nullable: true)), Message("{}", headers: new Headers { { "h", """["\ud800"]"""u8.ToArray() } }));
        Assert.Equal(ConversionErrorKind.WrongType, error?.Kind);
        Assert.Contains("invalid unicode escape", error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Error_messages_quoting_the_input_stay_storable_as_postgres_text()
    {
        // Cut after 80 characters, between the halves of a surrogate pair; and NUL, which Postgres text cannot hold.
        var (_, cut) = One("uuid", $"\"{new string('a', 79)}😀{new string('b', 10)}\"");
        var (_, nul) = One("uuid", "\"a\\u0000b\"");
        AssertStorable(cut!.Message);
        AssertStorable(nul!.Message);
        Assert.Contains("\uFFFD", nul.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_exception_from_a_converter_becomes_the_message_error_not_a_crash()
    {
        // No known input makes a converter throw any more; a topic name the consumer never gives (null) stands in for one.
        var mapping = MappingOf(Column("id", "value.id", "bigint"), Column("c", "topic", "text", nullable: true));
        var message = Message("""{"id": 1}""", topic: null!);
        var error = new MessageConverter(mapping).TryConvert(message, new object?[2]);
        Assert.Equal(ConversionErrorKind.Unexpected, error?.Kind);
        Assert.Equal("c", error!.Column);
        Assert.Contains("NullReferenceException", error.Message, StringComparison.Ordinal);
        var tuple = new CopyBuffer();
        Assert.Equal(ConversionErrorKind.Unexpected, new MessageConverter(mapping).TryEncode(message, tuple, new object?[2], [0])?.Kind);
        Assert.Equal(0, tuple.Length);
    }

    private static void CheckMessage(Converters converters, ConsumeResult<byte[]?, byte[]?> message)
    {
        var count = converters.Mapping.Columns.Count;
        var values = new object?[count];
        var error = converters.SinglePass.TryConvert(message, values);
        var viaDocument = new object?[count];
        Assert.Equal(converters.Document.TryConvert(message, viaDocument), error);
        AssertHonest(error);
        if (error is null)
        {
            Assert.Equal(viaDocument, values);
            for (var i = 0; i < count; i++)
            {
                AssertStorable(values[i]);
                AssertStorableJson(converters.Mapping.Columns[i].Type, values[i]);
            }
        }

        var tuple = new CopyBuffer();
        Assert.Equal(error, converters.SinglePass.TryEncode(message, tuple, new object?[count], converters.Keys));
        AssertHonest(converters.SinglePass.TryConvertChange(message, new object?[count], out _));
        AssertHonest(converters.Document.TryConvertKey(message, new object?[count]));
    }

    private static void AssertHonest(ConversionError? error)
    {
        if (error is not null)
        {
            Assert.NotEqual(ConversionErrorKind.Unexpected, error.Kind);
            AssertStorable(error.Message);
        }
    }

    /// <summary>What Postgres text (and so a dead letter's error) can hold: no NUL, no unpaired surrogate.</summary>
    private static void AssertStorable(object? value)
    {
        switch (value)
        {
            case string text:
                Assert.DoesNotContain('\0', text);
                Assert.True(IsWellFormed(text), $"unpaired surrogate in '{text}'");
                break;
            case string[] texts:
                Array.ForEach(texts, AssertStorable);
                break;
        }
    }

    /// <summary>A json or jsonb value Postgres takes: no escape of an unpaired surrogate (jsonb refuses it).</summary>
    private static void AssertStorableJson(ColumnType type, object? value)
    {
        if (value is string json && type.Scalar is ScalarType.Json or ScalarType.Jsonb)
        {
            Assert.True(UnicodeEscapes.FindUnpairedSurrogate(json.AsSpan()) < 0, $"unpaired surrogate escape in {type} '{json}'");
        }
    }

    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static Gen<string> Json(int depth) => depth == 0
        ? s_scalar
        : Gen.Frequency((5, s_scalar), (1, Json(depth - 1).Array[0, 3].Select(items => $"[{string.Join(",", items)}]")), (2, Object(depth - 1)));

    private static Gen<string> Object(int depth) =>
        Gen.Select(s_name, Json(depth)).Array[0, 4].Select(members => $"{{{string.Join(",", members.Select(m => $"\"{m.Item1}\":{m.Item2}"))}}}");

    private static byte[] Deep(int depth) => Encoding.UTF8.GetBytes($"{{\"s\":{new string('[', depth)}\"\\ud800\"{new string(']', depth)}}}");

    private static string Print(ConsumeResult<byte[]?, byte[]?> message) =>
        $"value {Show(message.Message.Value)}, key {Show(message.Message.Key)}, header {Show(message.Message.Headers.FirstOrDefault()?.GetValueBytes())}, timestamp {message.Message.Timestamp.UnixTimestampMs}";

    private static string Show(byte[]? bytes) => bytes is null ? "null" : bytes.Length > 300 ? $"{bytes.Length} bytes" : System.Convert.ToHexString(bytes) + " " + Encoding.UTF8.GetString(bytes);

    private static IEnumerable<Converters> BuildConverters()
    {
        foreach (var (format, sources) in s_sources)
        {
            foreach (var type in s_types)
            {
                foreach (var from in sources)
                {
                    var mapping = MappingOf(format, Column("c", from, type, nullable: true)) with { Mode = WriteMode.Upsert, Key = ["c"], DeleteOnTombstone = true };
                    yield return new Converters(mapping, new MessageConverter(mapping), new MessageConverter(mapping, singlePass: false), [0]);
                }
            }
        }

        // Several value paths at once, read in one pass: one column's token next to another's.
        foreach (var type in s_types)
        {
            var mapping = MappingOf(
                Column("s", "value.s", type, nullable: true), Column("os", "value.o.s", type, nullable: true), Column("x", "value.x", "text", nullable: true), Column("o", "value.o", type, nullable: true))
                with { Mode = WriteMode.Upsert, Key = ["s"], DeleteOnTombstone = true };
            yield return new Converters(mapping, new MessageConverter(mapping), new MessageConverter(mapping, singlePass: false), [0, 1]);
        }
    }

    private sealed record Converters(MappingConfig Mapping, MessageConverter SinglePass, MessageConverter Document, int[] Keys);
}
