using SinkConnector.Configuration;
using SinkConnector.Mapping;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>What each message does to an upsert table, and where a delete finds its key.</summary>
public class ChangeConversionTests
{
    private static readonly ColumnMapping[] s_orderColumns =
    [
        Column("id", "value.id", "bigint"),
        Column("status", "value.status", "text"),
    ];

    private static MappingConfig Upsert(MessageFormat format = MessageFormat.Json, bool deleteOnTombstone = true, params ColumnMapping[] columns) =>
        MappingOf(format, columns.Length == 0 ? s_orderColumns : columns) with
        {
            Mode = WriteMode.Upsert,
            Key = columns.Length == 0 ? ["id"] : [columns[0].Name],
            DeleteOnTombstone = deleteOnTombstone,
        };

    private static (ChangeKind Change, object?[] Values, ConversionError? Error) Change(MappingConfig mapping, Confluent.Kafka.ConsumeResult<byte[]?, byte[]?> message)
    {
        var values = new object?[mapping.Columns.Count];
        var error = new MessageConverter(mapping).TryConvertChange(message, values, out var change);
        return (change, values, error);
    }

    [Fact]
    public void A_value_is_a_write_of_every_column()
    {
        var (change, values, error) = Change(Upsert(), Message("""{"id": 3, "status": "paid"}"""));

        Assert.Null(error);
        Assert.Equal(ChangeKind.Write, change);
        Assert.Equal([3L, "paid"], values);
    }

    [Theory]
    [InlineData("""{"id": 3}""")]
    [InlineData("3")]
    [InlineData("\"3\"")]
    public void A_tombstone_deletes_by_the_key_field_with_the_value_path_or_by_a_scalar_key(string key)
    {
        var (change, values, error) = Change(Upsert(), Message(null, key: key));

        Assert.Null(error);
        Assert.Equal(ChangeKind.Delete, change);
        Assert.Equal([3L, null], values);
    }

    [Fact]
    public void A_plain_text_key_is_the_whole_key_of_a_one_column_key()
    {
        var mapping = Upsert(columns: [Column("code", "value.code", "text"), Column("n", "value.n", "integer")]);

        var (change, values, error) = Change(mapping, Message(null, key: "order-17"));

        Assert.Null(error);
        Assert.Equal(ChangeKind.Delete, change);
        Assert.Equal("order-17", values[0]);
    }

    [Fact]
    public void A_key_column_read_from_the_key_is_read_the_same_way_for_a_delete()
    {
        var mapping = Upsert(columns: [Column("src_key", "key", "text"), Column("n", "value.n", "integer")]);

        var (change, values, error) = Change(mapping, Message(null, key: "abc"));

        Assert.Null(error);
        Assert.Equal(ChangeKind.Delete, change);
        Assert.Equal("abc", values[0]);
    }

    [Fact]
    public void A_tombstone_without_the_key_field_is_a_missing_field_error()
    {
        var (change, _, error) = Change(Upsert(), Message(null, key: """{"other": 1}"""));

        Assert.Equal(ChangeKind.Delete, change);
        Assert.NotNull(error);
        Assert.Equal(ConversionErrorKind.MissingField, error.Kind);
        Assert.Contains("a delete needs key column 'id'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tombstone_with_a_null_key_is_a_missing_field_error()
    {
        var (_, _, error) = Change(Upsert(), Message(null, key: null));

        Assert.NotNull(error);
        Assert.Equal(ConversionErrorKind.MissingField, error.Kind);
    }

    [Fact]
    public void A_tombstone_is_skipped_without_delete_on_tombstone_and_in_insert_mode()
    {
        Assert.Equal(ChangeKind.Skip, Change(Upsert(deleteOnTombstone: false), Message(null, key: "3")).Change);
        Assert.Equal(ChangeKind.Skip, Change(MappingOf(s_orderColumns), Message(null, key: "3")).Change);
    }

    [Fact]
    public void A_composite_key_is_read_field_by_field_from_the_key()
    {
        var mapping = Upsert(columns: [Column("tenant", "value.tenant", "text"), Column("id", "value.id", "bigint"), Column("v", "value.v", "text")])
            with { Key = ["tenant", "id"] };

        var (change, values, error) = Change(mapping, Message(null, key: """{"tenant": "t1", "id": 9}"""));

        Assert.Null(error);
        Assert.Equal(ChangeKind.Delete, change);
        Assert.Equal(["t1", 9L, null], values);
    }

    [Fact]
    public void A_debezium_delete_takes_its_key_from_before()
    {
        const string Delete = """{"op": "d", "before": {"id": 4, "status": "x"}, "after": null, "source": {}}""";

        var (change, values, error) = Change(Upsert(MessageFormat.Debezium, deleteOnTombstone: false), Message(Delete, key: """{"id": 999}"""));

        Assert.Null(error);
        Assert.Equal(ChangeKind.Delete, change);
        Assert.Equal([4L, null], values);
    }

    [Fact]
    public void A_debezium_delete_without_before_takes_its_key_from_a_wrapped_message_key()
    {
        const string Delete = """{"schema": {}, "payload": {"op": "d", "before": null, "after": null, "source": {}}}""";
        const string Key = """{"schema": {"type": "struct"}, "payload": {"id": 5}}""";

        var (change, values, error) = Change(Upsert(MessageFormat.Debezium, deleteOnTombstone: false), Message(Delete, key: Key));

        Assert.Null(error);
        Assert.Equal(ChangeKind.Delete, change);
        Assert.Equal([5L, null], values);
    }

    [Fact]
    public void Debezium_tombstones_are_skipped_and_deletes_in_insert_mode_are_skipped()
    {
        const string Delete = """{"op": "d", "before": {"id": 4}, "after": null, "source": {}}""";
        var insert = MappingOf(MessageFormat.Debezium, s_orderColumns);

        Assert.Equal(ChangeKind.Skip, Change(Upsert(MessageFormat.Debezium, deleteOnTombstone: false), Message(null, key: """{"id": 4}""")).Change);
        Assert.Equal(ChangeKind.Skip, Change(insert, Message(Delete)).Change);
    }

    [Theory]
    [InlineData("c")]
    [InlineData("r")]
    [InlineData("u")]
    public void Debezium_create_read_and_update_write_the_after_image(string op)
    {
        var message = Message($$$"""{"op": "{{{op}}}", "before": {"id": 1, "status": "old"}, "after": {"id": 1, "status": "new"}, "source": {}}""");

        var (change, values, error) = Change(Upsert(MessageFormat.Debezium, deleteOnTombstone: false), message);

        Assert.Null(error);
        Assert.Equal(ChangeKind.Write, change);
        Assert.Equal([1L, "new"], values);
    }

    [Fact]
    public void Connect_json_keys_are_unwrapped_like_values()
    {
        var mapping = Upsert(MessageFormat.ConnectJson);
        const string Key = """{"schema": {"type": "struct"}, "payload": {"id": 8}}""";

        var (change, values, error) = Change(mapping, Message(null, key: Key));

        Assert.Null(error);
        Assert.Equal(ChangeKind.Delete, change);
        Assert.Equal(8L, values[0]);
    }
}
