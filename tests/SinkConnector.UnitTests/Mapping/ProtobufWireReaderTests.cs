using System.Buffers;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using SinkConnector.Mapping.Encodings;
using SinkConnector.Testing;
using SinkConnector.Testing.Protos;
using ConfluentDecimal = SinkConnector.Testing.Protos.Confluent.Decimal;
using SinkConnector.Testing.Protos.GoogleType;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>
/// The descriptor-driven Protobuf reader: payloads serialized by Google's generated classes (protoc at build time),
/// read back with descriptors built only from serialized FileDescriptorProtos (as the registry serves them) into the
/// JSON the converters read: every scalar type, presence, oneof, maps, repeated fields packed or not, the well-known
/// types, message indexes (nested types too), and malformed input as the message's error.
/// </summary>
public sealed class ProtobufWireReaderTests
{
    /// <summary>The descriptors as the sink builds them: from the serialized files, no generated class involved.</summary>
    private static readonly FileDescriptor s_orders = Built(OrdersReflection.Descriptor);

    private static FileDescriptor Built(FileDescriptor generated)
    {
        var files = new List<FileDescriptor>();
        void Add(FileDescriptor file)
        {
            foreach (var dependency in file.Dependencies)
            {
                Add(dependency);
            }

            if (!files.Contains(file))
            {
                files.Add(file);
            }
        }

        Add(generated);
        var schema = new SinkConnector.Registry.RegistrySchema(1, "PROTOBUF", "")
        {
            ProtobufFiles = [.. files.Where(f => !ProtobufBuiltInFiles.Names.Contains(f.Name))
                .Select(f => new SinkConnector.Registry.ProtobufFile(f == generated ? null : f.Name, Convert.ToBase64String(f.SerializedData.ToByteArray())))],
        };
        var entry = ProtobufSchemaEntry.Parse(schema);
        Assert.Null(entry.Problem);
        return entry.File!;
    }

    private static MessageDescriptor Descriptor(MessageDescriptor generated) => generated.ContainingType is { } parent
        ? Descriptor(parent).NestedTypes.Single(m => m.Name == generated.Name)
        : s_orders.MessageTypes.Single(m => m.Name == generated.Name);

    private static JsonElement Read(MessageDescriptor descriptor, byte[] payload)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            ProtobufJsonWriter.Write(descriptor, payload, writer);
        }

        return JsonDocument.Parse(buffer.WrittenMemory).RootElement.Clone();
    }

    private static JsonElement Read(Order order) => Read(Descriptor(Order.Descriptor), order.ToByteArray());

    /// <summary>Reads a payload in the wire format after the schema id (indexes and payload), as the decoder does.</summary>
    private static (string Message, JsonElement Json) ReadFramed(byte[] framed)
    {
        var (message, payload) = ProtobufMessageIndexes.Read(s_orders, framed.AsMemory(5));
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            ProtobufJsonWriter.Write(message, payload, writer);
        }

        return (message.FullName, JsonDocument.Parse(buffer.WrittenMemory).RootElement.Clone());
    }

    [Fact]
    public void Every_scalar_type_is_read_exactly_including_64_bit_extremes()
    {
        var json = Read(new Order
        {
            Id = long.MaxValue, Body = "Ada ✓", I32 = -5, S32 = int.MinValue, S64 = long.MinValue, U32 = uint.MaxValue, U64 = ulong.MaxValue,
            F32 = uint.MaxValue, F64 = ulong.MaxValue, Sf32 = int.MinValue, Sf64 = long.MinValue, Score = 1.1f, Ratio = 0.1, Flag = true,
            Blob = ByteString.CopyFrom(0, 1, 255), Status = Order.Types.Status.Paid,
        });

        Assert.Equal(long.MaxValue, json.GetProperty("id").GetInt64());
        Assert.Equal("Ada ✓", json.GetProperty("body").GetString());
        Assert.Equal(-5, json.GetProperty("i32").GetInt32());
        Assert.Equal(int.MinValue, json.GetProperty("s32").GetInt32());
        Assert.Equal(long.MinValue, json.GetProperty("s64").GetInt64());
        Assert.Equal(uint.MaxValue, json.GetProperty("u32").GetUInt32());
        Assert.Equal("18446744073709551615", json.GetProperty("u64").GetRawText());
        Assert.Equal(uint.MaxValue, json.GetProperty("f32").GetUInt32());
        Assert.Equal("18446744073709551615", json.GetProperty("f64").GetRawText());
        Assert.Equal(int.MinValue, json.GetProperty("sf32").GetInt32());
        Assert.Equal(long.MinValue, json.GetProperty("sf64").GetInt64());
        Assert.Equal("1.1", json.GetProperty("score").GetRawText());
        Assert.Equal(0.1, json.GetProperty("ratio").GetDouble());
        Assert.True(json.GetProperty("flag").GetBoolean());
        Assert.Equal([0, 1, 255], json.GetProperty("blob").GetBytesFromBase64());
        Assert.Equal("PAID", json.GetProperty("status").GetString());
    }

    [Fact]
    public void Absent_proto3_scalars_are_their_defaults_and_fields_with_presence_are_null()
    {
        var json = Read(new Order());

        Assert.Equal(0, json.GetProperty("id").GetInt64());
        Assert.Equal("", json.GetProperty("body").GetString());
        Assert.False(json.GetProperty("flag").GetBoolean());
        Assert.Equal("", json.GetProperty("blob").GetString());
        Assert.Equal("STATUS_UNSPECIFIED", json.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("address").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("priority").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("created_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("maybe_count").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("price").ValueKind);
        Assert.Equal("[]", json.GetProperty("tags").GetRawText());
        Assert.Equal("{}", json.GetProperty("attrs").GetRawText());
        Assert.False(json.TryGetProperty("email", out _));
        Assert.False(json.TryGetProperty("phone", out _));
    }

    [Fact]
    public void Optional_fields_wrappers_and_oneof_members_set_to_their_defaults_are_values_not_null()
    {
        var json = Read(new Order { Priority = 0, MaybeCount = 0, MaybeNote = "", Email = "" });

        Assert.Equal(0, json.GetProperty("priority").GetInt32());
        Assert.Equal(0, json.GetProperty("maybe_count").GetInt32());
        Assert.Equal("", json.GetProperty("maybe_note").GetString());
        Assert.Equal("", json.GetProperty("email").GetString());
        Assert.False(json.TryGetProperty("phone", out _));
    }

    [Fact]
    public void Nested_messages_repeated_fields_maps_and_the_set_oneof_member_keep_their_structure()
    {
        var order = new Order
        {
            Address = new Address { City = "Zürich", Zip = "8001" },
            Tags = { "new", "gift" },
            Counts = { 1, -2, long.MaxValue },
            Attrs = { ["weight"] = 1200, ["height"] = -3 },
            Lines = { new Order.Types.Line { Sku = "a", Quantity = 2 }, new Order.Types.Line { Sku = "b" } },
            Email = "x@example.com",
        };
        order.Phone = "+41";

        var json = Read(order);

        Assert.Equal("Zürich", json.GetProperty("address").GetProperty("city").GetString());
        Assert.Equal("""["new","gift"]""", json.GetProperty("tags").GetRawText());
        Assert.Equal("[1,-2,9223372036854775807]", json.GetProperty("counts").GetRawText());
        Assert.Equal("""{"weight":1200,"height":-3}""", json.GetProperty("attrs").GetRawText());
        Assert.Equal("""[{"sku":"a","quantity":2},{"sku":"b","quantity":0}]""", json.GetProperty("lines").GetRawText());
        Assert.False(json.TryGetProperty("email", out _));
        Assert.Equal("+41", json.GetProperty("phone").GetString());
    }

    [Fact]
    public void Repeated_numbers_are_read_packed_and_unpacked_and_unknown_fields_are_skipped()
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        // counts (20) unpacked, twice, then a field number the schema does not have, then counts packed.
        output.WriteTag(20, WireFormat.WireType.Varint);
        output.WriteInt64(7);
        output.WriteTag(20, WireFormat.WireType.Varint);
        output.WriteInt64(-1);
        output.WriteTag(999, WireFormat.WireType.LengthDelimited);
        output.WriteString("from a newer writer");
        output.WriteTag(20, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(Packed(8, 9)));
        output.Flush();

        var json = Read(Descriptor(Order.Descriptor), buffer.ToArray());

        Assert.Equal("[7,-1,8,9]", json.GetProperty("counts").GetRawText());
    }

    private static byte[] Packed(params long[] values)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        foreach (var value in values)
        {
            output.WriteInt64(value);
        }

        output.Flush();
        return buffer.ToArray();
    }

    [Fact]
    public void Well_known_types_are_values_timestamps_to_the_microsecond_durations_iso_decimals_exact()
    {
        var json = Read(new Order
        {
            CreatedAt = new Timestamp { Seconds = 1_709_287_200, Nanos = 123_456_500 },
            Wait = new Duration { Seconds = -90, Nanos = -500_000_000 },
            MaybeCount = 42,
            MaybeNote = "note",
            Price = DecimalOf("-123456789012345678901234567890", scale: 2),
            Day = new Date { Year = 2024, Month = 2, Day = 29 },
        });

        Assert.Equal("2024-03-01T10:00:00.123456Z", json.GetProperty("created_at").GetString());
        Assert.Equal("-PT90.5S", json.GetProperty("wait").GetString());
        Assert.Equal(42, json.GetProperty("maybe_count").GetInt32());
        Assert.Equal("note", json.GetProperty("maybe_note").GetString());
        Assert.Equal("-1234567890123456789012345678.90", json.GetProperty("price").GetRawText());
        Assert.Equal("2024-02-29", json.GetProperty("day").GetString());
    }

    /// <summary>Confluent's decimal: the unscaled value big-endian two's complement (Java's BigInteger.toByteArray) and the scale.</summary>
    internal static ConfluentDecimal DecimalOf(string unscaled, int scale) => new()
    {
        Value = ByteString.CopyFrom(System.Numerics.BigInteger.Parse(unscaled, System.Globalization.CultureInfo.InvariantCulture).ToByteArray(isUnsigned: false, isBigEndian: true)),
        Scale = scale,
        Precision = (uint)unscaled.TrimStart('-').Length,
    };

    [Theory]
    [InlineData(0, 0, "PT0S")]
    [InlineData(1, 500, "PT1S")]
    [InlineData(1, 1_500, "PT1.000002S")]
    [InlineData(1, 1_499, "PT1.000001S")]
    [InlineData(3600, 250_000_000, "PT3600.25S")]
    [InlineData(0, -1_000, "-PT0.000001S")]
    public void Durations_are_iso_8601_rounded_to_the_microsecond_half_to_even(long seconds, int nanos, string text) =>
        Assert.Equal(text, ProtobufWellKnownTypes.Duration(seconds, nanos));

    [Fact]
    public void A_timestamp_rounds_nanoseconds_half_to_even_and_carries_into_the_second() =>
        Assert.Equal("1970-01-01T00:00:01Z", ProtobufWellKnownTypes.Timestamp(0, 999_999_500));

    [Fact]
    public void Struct_value_and_list_value_are_the_json_they_hold()
    {
        var structure = Struct.Parser.ParseJson("""{"a": 1, "b": [true, null, "x"], "c": {"d": 2.5}}""");

        var builtIn = FileDescriptor.BuildFromByteStrings(ProtobufBuiltInFiles.All).Single(f => f.Name == "google/protobuf/struct.proto");

        var json = Read(builtIn.MessageTypes.Single(m => m.Name == "Struct"), structure.ToByteArray());

        Assert.Equal("""{"a":1,"b":[true,null,"x"],"c":{"d":2.5}}""", json.GetRawText());
    }

    [Fact]
    public void An_enum_number_the_schema_does_not_name_is_that_number()
    {
        var json = Read(Descriptor(Order.Descriptor), [0x88, 0x01, 7]);

        Assert.Equal(7, json.GetProperty("status").GetInt32());
    }

    /// <summary>A proto2 file built by hand: every optional field has presence; a map with integer keys.</summary>
    private static MessageDescriptor Proto2Message()
    {
        var entry = new DescriptorProto { Name = "LabelsEntry", Options = new MessageOptions { MapEntry = true } };
        entry.Field.Add(new FieldDescriptorProto { Name = "key", Number = 1, Label = FieldDescriptorProto.Types.Label.Optional, Type = FieldDescriptorProto.Types.Type.Int32 });
        entry.Field.Add(new FieldDescriptorProto { Name = "value", Number = 2, Label = FieldDescriptorProto.Types.Label.Optional, Type = FieldDescriptorProto.Types.Type.String });
        var message = new DescriptorProto { Name = "Legacy" };
        message.Field.Add(new FieldDescriptorProto { Name = "count", Number = 1, Label = FieldDescriptorProto.Types.Label.Optional, Type = FieldDescriptorProto.Types.Type.Int32 });
        message.Field.Add(new FieldDescriptorProto
        {
            Name = "labels", Number = 2, Label = FieldDescriptorProto.Types.Label.Repeated, Type = FieldDescriptorProto.Types.Type.Message, TypeName = ".old.Legacy.LabelsEntry",
        });
        message.NestedType.Add(entry);
        var file = new FileDescriptorProto { Name = "old/legacy.proto", Package = "old", Syntax = "proto2" };
        file.MessageType.Add(message);
        var built = ProtobufSchemaEntry.Parse(new SinkConnector.Registry.RegistrySchema(2, "PROTOBUF", "")
        {
            ProtobufFiles = [new SinkConnector.Registry.ProtobufFile(null, Convert.ToBase64String(file.ToByteArray()))],
        });
        return built.File!.MessageTypes[0];
    }

    [Fact]
    public void Proto2_optional_fields_absent_are_null_and_integer_map_keys_are_their_text()
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        foreach (var (key, value) in new[] { (-3, "minus three"), (7, "seven") })
        {
            using var entry = new MemoryStream();
            var entryOutput = new CodedOutputStream(entry);
            entryOutput.WriteTag(1, WireFormat.WireType.Varint);
            entryOutput.WriteInt32(key);
            entryOutput.WriteTag(2, WireFormat.WireType.LengthDelimited);
            entryOutput.WriteString(value);
            entryOutput.Flush();
            output.WriteTag(2, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(entry.ToArray()));
        }

        output.Flush();

        var json = Read(Proto2Message(), buffer.ToArray());

        Assert.Equal("""{"count":null,"labels":{"-3":"minus three","7":"seven"}}""", json.GetRawText());
    }

    [Fact]
    public void A_schema_whose_import_is_neither_a_reference_nor_built_in_cannot_be_built_and_says_which()
    {
        var entry = ProtobufSchemaEntry.Parse(new SinkConnector.Registry.RegistrySchema(3, "PROTOBUF", "")
        {
            ProtobufFiles = [new SinkConnector.Registry.ProtobufFile(null, Convert.ToBase64String(OrdersReflection.Descriptor.SerializedData.ToByteArray()))],
        });

        Assert.Null(entry.File);
        Assert.Contains("shop/v1/address.proto", entry.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Message_index_zero_is_one_byte_and_longer_indexes_select_top_level_and_nested_types()
    {
        var order = ProtobufProducerSerde.Frame(1, new Order { Id = 7 });
        var key = ProtobufProducerSerde.Frame(1, new OrderKey { Id = 8 });
        var line = ProtobufProducerSerde.Frame(1, new Order.Types.Line { Sku = "s", Quantity = 3 });
        byte[] explicitZero = [.. ProtobufProducerSerde.Header(1, [1, 0])[..5], 2, 0, .. new Order { Id = 9 }.ToByteArray()];

        Assert.Equal(6, ProtobufProducerSerde.Header(1, [0]).Length);
        Assert.Equal(("shop.v1.Order", 7), (ReadFramed(order).Message, ReadFramed(order).Json.GetProperty("id").GetInt32()));
        Assert.Equal(("shop.v1.OrderKey", 8), (ReadFramed(key).Message, ReadFramed(key).Json.GetProperty("id").GetInt32()));
        Assert.Equal(("shop.v1.Order.Line", 3), (ReadFramed(line).Message, ReadFramed(line).Json.GetProperty("quantity").GetInt32()));
        Assert.Equal(("shop.v1.Order", 9), (ReadFramed(explicitZero).Message, ReadFramed(explicitZero).Json.GetProperty("id").GetInt32()));
    }

    public static TheoryData<string, byte[], string> MalformedInputs() => new()
    {
        { "index out of range", [.. ProtobufProducerSerde.Header(1, [5])[5..]], "message index [5] is not in the schema" },
        { "nested index out of range", [.. ProtobufProducerSerde.Header(1, [0, 40])[5..]], "shop.v1.Order has" },
        { "negative count", [3], "message-index count -2" },
        { "truncated indexes", [4, 2], "message indexes do not decode" },
        { "truncated payload", [0, .. new Order { Body = "long enough" }.ToByteArray()[..^3]], "shop.v1.Order" },
        { "wrong wire type", [0, 0x0A, 0], "came with wire type LengthDelimited" },
        { "invalid utf-8", [0, 0x12, 2, 0xC3, 0x28], "not valid UTF-8" },
        { "a group", [0, 0x0B, 0x0C], "came with wire type StartGroup" },
        { "bad timestamp", [0, .. new Order { CreatedAt = new Timestamp { Seconds = long.MaxValue } }.ToByteArray()], "out of range" },
        { "partial date", [0, .. new Order { Day = new Date { Year = 2024 } }.ToByteArray()], "not a full calendar date" },
    };

    [Theory]
    [MemberData(nameof(MalformedInputs))]
    public void Malformed_input_is_a_data_error_with_the_reason(string what, byte[] afterSchemaId, string reason)
    {
        byte[] framed = [0, 0, 0, 0, 1, .. afterSchemaId];

        var error = Assert.Throws<ProtobufDataException>(() => ReadFramed(framed));

        Assert.True(error.Message.Contains(reason, StringComparison.Ordinal), $"{what}: {error.Message}");
    }
}
