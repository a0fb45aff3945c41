using System.Text;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Mapping;

public class EnvelopeTests
{
    private const string DebeziumCreate = """
        {"before": null, "after": {"id": 7, "name": "Ada", "amount": "12.50"},
         "source": {"db": "shop", "table": "customers", "ts_ms": 1709287200000, "lsn": 123},
         "op": "c", "ts_ms": 1709287200500}
        """;

    private const string DebeziumDelete = """
        {"schema": {"type": "struct"},
         "payload": {"before": {"id": 7, "name": "Ada"}, "after": null,
                     "source": {"db": "shop", "ts_ms": 1709287300000}, "op": "d"}}
        """;

    private static readonly ColumnMapping[] s_debeziumColumns =
    [
        Column("id", "value.id", "bigint"),
        Column("name", "value.name", "text"),
        Column("amount", "value.amount", "numeric(10,2)", nullable: true),
        Column("db", "source.db", "text"),
        Column("changed_at", "source.ts_ms", "timestamptz"),
    ];

    [Fact]
    public void Debezium_reads_after_and_source()
    {
        var (values, error) = Convert(MappingOf(MessageFormat.Debezium, s_debeziumColumns), Message(DebeziumCreate));

        Assert.Null(error);
        Assert.Equal(7L, values[0]);
        Assert.Equal("Ada", values[1]);
        Assert.Equal(12.50m, values[2]);
        Assert.Equal("shop", values[3]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc), values[4]);
    }

    [Fact]
    public void Debezium_delete_reads_before_inside_a_schema_payload_wrapper()
    {
        var mapping = MappingOf(MessageFormat.Debezium, s_debeziumColumns);
        var (values, error) = Convert(mapping, Message(DebeziumDelete));

        Assert.Null(error);
        Assert.Equal(7L, values[0]);
        Assert.Null(values[2]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 1, 40, DateTimeKind.Utc), values[4]);
    }

    [Fact]
    public void Classify_finds_tombstones_and_debezium_deletes()
    {
        var debezium = new MessageConverter(MappingOf(MessageFormat.Debezium, s_debeziumColumns));
        Assert.Equal(MessageKind.Row, debezium.Classify(Message(DebeziumCreate)));
        Assert.Equal(MessageKind.Delete, debezium.Classify(Message(DebeziumDelete)));
        Assert.Equal(MessageKind.Delete, debezium.Classify(Message("""{"op": "d", "before": {"id": 1}}""")));
        Assert.Equal(MessageKind.Tombstone, debezium.Classify(Message(null)));
        Assert.Equal(MessageKind.Row, debezium.Classify(Message("{broken")));

        var json = new MessageConverter(MappingOf(Column("id", "value.id", "bigint")));
        Assert.Equal(MessageKind.Tombstone, json.Classify(Message(null)));
        Assert.Equal(MessageKind.Row, json.Classify(Message("""{"op": "d"}""")));
    }

    [Fact]
    public void Debezium_without_op_is_an_invalid_envelope()
    {
        var (_, error) = Convert(MappingOf(MessageFormat.Debezium, s_debeziumColumns), Message("""{"id": 7}"""));
        Assert.Equal(ConversionErrorKind.InvalidEnvelope, error?.Kind);
    }

    [Fact]
    public void Debezium_whole_value_is_the_row_image()
    {
        var mapping = MappingOf(MessageFormat.Debezium, Column("row", "value", "jsonb"));
        var (values, error) = Convert(mapping, Message(DebeziumCreate));
        Assert.Null(error);
        Assert.Equal("""{"id": 7, "name": "Ada", "amount": "12.50"}""", values[0]);
    }

    [Fact]
    public void Source_paths_need_the_debezium_format()
    {
        Assert.Throws<ArgumentException>(() => new MessageConverter(MappingOf(Column("db", "source.db", "text"))));
    }

    [Fact]
    public void Connect_json_reads_the_payload()
    {
        var mapping = MappingOf(MessageFormat.ConnectJson, Column("id", "value.id", "bigint"), Column("all", "value", "jsonb"));
        var (values, error) = Convert(mapping, Message("""{"schema": {"type": "struct"}, "payload": {"id": 3}}"""));
        Assert.Null(error);
        Assert.Equal(3L, values[0]);
        Assert.Equal("""{"id": 3}""", values[1]);

        (_, error) = Convert(mapping, Message("""{"id": 3}"""));
        Assert.Equal(ConversionErrorKind.InvalidEnvelope, error?.Kind);
    }

    [Fact]
    public void Raw_value_as_bytes_text_json_or_scalar()
    {
        var bytes = Encoding.UTF8.GetBytes("\"hi\"");
        var (values, error) = Convert(
            MappingOf(MessageFormat.Raw, Column("b", "value", "bytea"), Column("t", "value", "text"), Column("j", "value", "jsonb")),
            MessageBytes(bytes));
        Assert.Null(error);
        Assert.Same(bytes, values[0]);
        Assert.Equal("\"hi\"", values[1]);
        Assert.Equal("\"hi\"", values[2]);

        (values, error) = Convert(MappingOf(MessageFormat.Raw, Column("n", "value", "bigint")), Message("42\n"));
        Assert.Null(error);
        Assert.Equal(42L, values[0]);

        (_, error) = Convert(MappingOf(MessageFormat.Raw, Column("j", "value", "jsonb")), Message("not json"));
        Assert.Equal(ConversionErrorKind.InvalidJson, error?.Kind);
    }

    [Fact]
    public void Raw_has_no_value_paths()
    {
        Assert.Throws<ArgumentException>(() => new MessageConverter(MappingOf(MessageFormat.Raw, Column("a", "value.a", "text"))));
    }
}
