using System.Globalization;
using System.Numerics;
using Avro;
using Avro.Generic;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using SinkConnector.Registry;
using SinkConnector.Testing;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>
/// The direct Avro path (binary into the COPY tuple) writes exactly the JSON path's tuple for Kafka Connect's and
/// Debezium's named types, nested records, nullable unions and Debezium envelopes, from values written by Confluent's
/// AvroSerializer; and leaves to the JSON path what it does not cover.
/// </summary>
public sealed class AvroDirectPathTests : IAsyncLifetime
{
    private const string NamedTypesSchema = """
        {"type": "record", "name": "Named", "namespace": "shop", "fields": [
          {"name": "c_date", "type": {"type": "int", "connect.version": 1, "connect.name": "org.apache.kafka.connect.data.Date", "logicalType": "date"}},
          {"name": "c_time", "type": {"type": "int", "connect.version": 1, "connect.name": "org.apache.kafka.connect.data.Time", "logicalType": "time-millis"}},
          {"name": "c_ts", "type": {"type": "long", "connect.version": 1, "connect.name": "org.apache.kafka.connect.data.Timestamp", "logicalType": "timestamp-millis"}},
          {"name": "c_dec", "type": {"type": "bytes", "scale": 2, "precision": 10, "connect.version": 1, "connect.parameters": {"scale": "2", "connect.decimal.precision": "10"}, "connect.name": "org.apache.kafka.connect.data.Decimal", "logicalType": "decimal"}},
          {"name": "c_dec_legacy", "type": {"type": "bytes", "connect.version": 1, "connect.parameters": {"scale": "3"}, "connect.name": "org.apache.kafka.connect.data.Decimal"}},
          {"name": "d_date", "type": {"type": "int", "connect.version": 1, "connect.name": "io.debezium.time.Date"}},
          {"name": "d_time", "type": {"type": "int", "connect.version": 1, "connect.name": "io.debezium.time.Time"}},
          {"name": "d_micro_time", "type": {"type": "long", "connect.version": 1, "connect.name": "io.debezium.time.MicroTime"}},
          {"name": "d_nano_time", "type": {"type": "long", "connect.version": 1, "connect.name": "io.debezium.time.NanoTime"}},
          {"name": "d_ts", "type": {"type": "long", "connect.version": 1, "connect.name": "io.debezium.time.Timestamp"}},
          {"name": "d_micro_ts", "type": {"type": "long", "connect.version": 1, "connect.name": "io.debezium.time.MicroTimestamp"}},
          {"name": "d_nano_ts", "type": {"type": "long", "connect.version": 1, "connect.name": "io.debezium.time.NanoTimestamp"}},
          {"name": "d_zoned", "type": {"type": "string", "connect.version": 1, "connect.name": "io.debezium.time.ZonedTimestamp"}},
          {"name": "d_vsd", "type": {"type": "record", "name": "VariableScaleDecimal", "namespace": "io.debezium.data", "fields": [
            {"name": "scale", "type": "int"}, {"name": "value", "type": "bytes"}], "connect.doc": "Variable scaled decimal", "connect.version": 1, "connect.name": "io.debezium.data.VariableScaleDecimal"}},
          {"name": "d_vsd_null", "type": ["null", "io.debezium.data.VariableScaleDecimal"], "default": null},
          {"name": "outer", "type": {"type": "record", "name": "Outer", "fields": [
            {"name": "inner", "type": ["null", {"type": "record", "name": "Inner", "fields": [
              {"name": "id", "type": "long"},
              {"name": "label", "type": ["null", "string"], "default": null},
              {"name": "at", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}], "default": null}]}], "default": null},
            {"name": "n", "type": ["null", "long"], "default": null}]}}
        ]}
        """;

    private static readonly RecordSchema s_named = (RecordSchema)Avro.Schema.Parse(NamedTypesSchema);

    private SchemaRegistryStandIn _registry = null!;
    private AvroProducerSerde _producer = null!;
    private SchemaSource _schemas = null!;

    public ValueTask InitializeAsync()
    {
        _registry = SchemaRegistryStandIn.Start();
        _producer = new AvroProducerSerde(_registry.Url);
        _schemas = SchemaRegistryClients.Create(new SchemaRegistrySettings { Urls = [_registry.Url], RequestTimeout = TimeSpan.FromSeconds(2) });
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _schemas.Dispose();
        _producer.Dispose();
        await _registry.DisposeAsync();
    }

    private static MappingConfig AvroMapping(MessageFormat format, params ColumnMapping[] columns) =>
        MappingOf(format, columns) with { ValueEncoding = PayloadEncoding.Avro, KeyEncoding = PayloadEncoding.Avro };

    private static GenericRecord Named(bool withInner)
    {
        var record = new GenericRecord(s_named);
        record.Add("c_date", new DateTime(2024, 2, 29, 0, 0, 0, DateTimeKind.Utc));
        record.Add("c_time", new TimeSpan(0, 23, 59, 58, 999));
        record.Add("c_ts", new DateTime(2024, 3, 1, 10, 0, 0, 123, DateTimeKind.Utc));
        record.Add("c_dec", new AvroDecimal(new BigInteger(-123456), 2));
        record.Add("c_dec_legacy", new BigInteger(1234567).ToByteArray(isUnsigned: false, isBigEndian: true));
        record.Add("d_date", -1);
        record.Add("d_time", 45_296_789);
        record.Add("d_micro_time", 45_296_789_123L);
        record.Add("d_nano_time", 45_296_789_123_456L);
        record.Add("d_ts", 1_709_287_200_123L);
        record.Add("d_micro_ts", 1_709_287_200_123_456L);
        record.Add("d_nano_ts", 1_709_287_200_123_456_789L);
        record.Add("d_zoned", "2024-03-01T10:00:00.123456+02:00");
        var vsd = new GenericRecord((RecordSchema)s_named["d_vsd"].Schema);
        vsd.Add("scale", 5);
        vsd.Add("value", new BigInteger(-31415926).ToByteArray(isUnsigned: false, isBigEndian: true));
        record.Add("d_vsd", vsd);
        record.Add("d_vsd_null", null);
        var outer = new GenericRecord((RecordSchema)s_named["outer"].Schema);
        if (withInner)
        {
            var inner = new GenericRecord((RecordSchema)((UnionSchema)((RecordSchema)s_named["outer"].Schema)["inner"].Schema)[1]);
            inner.Add("id", 7L);
            inner.Add("label", "seven");
            inner.Add("at", new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc).AddTicks(10));
            outer.Add("inner", inner);
        }
        else
        {
            outer.Add("inner", null);
        }

        outer.Add("n", null);
        record.Add("outer", outer);
        return record;
    }

    [Fact]
    public async Task Connect_and_Debezium_named_types_and_nested_nullable_records_write_the_JSON_path_s_tuple_directly()
    {
        var paths = new AvroPaths(AvroMapping(MessageFormat.Json,
            Column("c_date", "value.c_date", "date"),
            Column("c_time", "value.c_time", "time"),
            Column("c_ts", "value.c_ts", "timestamptz"),
            Column("c_dec", "value.c_dec", "numeric(10,2)"),
            Column("c_dec_legacy", "value.c_dec_legacy", "numeric(12,3)"),
            Column("d_date", "value.d_date", "date"),
            Column("d_time", "value.d_time", "time"),
            Column("d_micro_time", "value.d_micro_time", "time"),
            Column("d_nano_time", "value.d_nano_time", "time"),
            Column("d_ts", "value.d_ts", "timestamp"),
            Column("d_micro_ts", "value.d_micro_ts", "timestamp"),
            Column("d_nano_ts", "value.d_nano_ts", "timestamp"),
            Column("d_zoned", "value.d_zoned", "timestamptz"),
            Column("d_vsd", "value.d_vsd", "numeric"),
            Column("d_vsd_null", "value.d_vsd_null", "numeric", nullable: true),
            Column("inner_id", "value.outer.inner.id", "bigint", nullable: true),
            Column("inner_label", "value.outer.inner.label", "text", nullable: true),
            Column("inner_at", "value.outer.inner.at", "timestamptz", nullable: true),
            Column("outer", "value.outer", "jsonb"),
            Column("n", "value.outer.n", "bigint", nullable: true),
            Column("d_nano_ts_text", "value.d_nano_ts", "text"),
            Column("d_vsd_text", "value.d_vsd", "text"),
            Column("c_time_text", "value.c_time", "text")), _schemas);
        var full = MessageBytes(await _producer.ValueAsync("orders", Named(withInner: true)));
        var empty = MessageBytes(await _producer.ValueAsync("orders", Named(withInner: false)));

        paths.AssertSameRowDirectly(full);
        paths.AssertSameRowDirectly(empty);
        var values = paths.Values(full);
        Assert.Equal(new DateOnly(2024, 2, 29), values[0]);
        Assert.Equal(new TimeOnly(23, 59, 58, 999), values[1]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0, 123, DateTimeKind.Utc), values[2]);
        Assert.Equal(-1234.56m, values[3]);
        Assert.Equal(1234.567m, values[4]);
        Assert.Equal(new DateOnly(1969, 12, 31), values[5]);
        Assert.Equal(new TimeOnly(12, 34, 56, 789), values[6]);
        Assert.Equal(new TimeOnly(12, 34, 56, 789, 123), values[7]);
        // Nanoseconds: .789123456 s is .7891234 in 100 ns ticks, rounded to microseconds as Postgres rounds it.
        Assert.Equal(new TimeOnly(12, 34, 56, 789, 123), values[8]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0, 123), values[9]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0, 123).AddTicks(4560), values[10]);
        // Nanoseconds: 123456789 ns is .1234567 s in 100 ns ticks, rounded to microseconds as Postgres rounds it.
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0, 123).AddTicks(4570), values[11]);
        Assert.Equal(new DateTime(2024, 3, 1, 8, 0, 0, 123, DateTimeKind.Utc).AddTicks(4560), values[12]);
        // numeric without scale is arbitrary precision: its values are PgNumeric (a decimal when one holds them exactly).
        Assert.Equal(new PgNumeric(-314.15926m), values[13]);
        Assert.Null(values[14]);
        Assert.Equal(7L, values[15]);
        Assert.Equal("seven", values[16]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc).AddTicks(10), values[17]);
        Assert.Equal("""{"inner":{"id":7,"label":"seven","at":"2024-03-01T10:00:00.000001Z"},"n":null}""", values[18]);
        Assert.Null(values[19]);
        Assert.Equal("2024-03-01T10:00:00.1234567", values[20]);
        Assert.Equal("-314.15926", values[21]);
        Assert.Equal("23:59:58.999", values[22]);
        Assert.Null(paths.Values(empty)[15]);
    }

    private const string DebeziumSchema = """
        {"type": "record", "name": "Envelope", "namespace": "dbserver1.inventory.orders", "fields": [
          {"name": "before", "type": ["null", {"type": "record", "name": "Value", "fields": [
            {"name": "id", "type": "long"},
            {"name": "status", "type": "string"},
            {"name": "amount", "type": {"type": "bytes", "scale": 2, "precision": 12, "connect.name": "org.apache.kafka.connect.data.Decimal", "logicalType": "decimal"}},
            {"name": "updated", "type": {"type": "long", "connect.name": "io.debezium.time.MicroTimestamp"}}],
            "connect.name": "dbserver1.inventory.orders.Value"}], "default": null},
          {"name": "after", "type": ["null", "Value"], "default": null},
          {"name": "source", "type": {"type": "record", "name": "Source", "namespace": "io.debezium.connector.postgresql", "fields": [
            {"name": "version", "type": "string"}, {"name": "connector", "type": "string"}, {"name": "ts_ms", "type": "long"},
            {"name": "db", "type": "string"}, {"name": "table", "type": "string"}, {"name": "lsn", "type": ["null", "long"], "default": null}]}},
          {"name": "op", "type": "string"},
          {"name": "ts_ms", "type": ["null", "long"], "default": null}
        ], "connect.name": "dbserver1.inventory.orders.Envelope"}
        """;

    private static readonly RecordSchema s_envelope = (RecordSchema)Avro.Schema.Parse(DebeziumSchema);

    private static GenericRecord Change(string op, long id, string status)
    {
        var valueSchema = (RecordSchema)((UnionSchema)s_envelope["before"].Schema)[1];
        var row = new GenericRecord(valueSchema);
        row.Add("id", id);
        row.Add("status", status);
        row.Add("amount", new AvroDecimal(new BigInteger(1999), 2));
        row.Add("updated", 1_709_287_200_123_456L);
        var source = new GenericRecord((RecordSchema)s_envelope["source"].Schema);
        source.Add("version", "2.7.0.Final");
        source.Add("connector", "postgresql");
        source.Add("ts_ms", 1_709_287_200_000L);
        source.Add("db", "inventory");
        source.Add("table", "orders");
        source.Add("lsn", 42L);
        var change = new GenericRecord(s_envelope);
        change.Add("before", op == "c" ? null : row);
        change.Add("after", op == "d" ? null : row);
        change.Add("source", source);
        change.Add("op", op);
        change.Add("ts_ms", 1_709_287_200_500L);
        return change;
    }

    [Fact]
    public async Task Debezium_Avro_creates_and_updates_are_written_directly_from_after_and_source_and_deletes_go_the_JSON_path()
    {
        var mapping = AvroMapping(MessageFormat.Debezium,
            Column("id", "value.id", "bigint"),
            Column("status", "value.status", "text"),
            Column("amount", "value.amount", "numeric(12,2)"),
            Column("updated", "value.updated", "timestamp"),
            Column("src_table", "source.table", "text"),
            Column("src_ts", "source.ts_ms", "timestamptz"),
            Column("row", "value", "jsonb")) with { Mode = WriteMode.Upsert, Key = ["id"] };
        var paths = new AvroPaths(mapping, _schemas);
        var create = MessageBytes(await _producer.ValueAsync("orders", Change("c", 1, "new")));
        var update = MessageBytes(await _producer.ValueAsync("orders", Change("u", 1, "paid")));
        var delete = MessageBytes(await _producer.ValueAsync("orders", Change("d", 1, "paid")));

        paths.AssertSameRowDirectly(create);
        paths.AssertSameRowDirectly(update);
        Assert.Null(paths.Direct(delete));
        var values = paths.Values(update);
        Assert.Equal("paid", values[1]);
        Assert.Equal(19.99m, values[2]);
        Assert.Equal("orders", values[4]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc), values[5]);
    }

    [Fact]
    public async Task Messages_the_direct_path_does_not_cover_or_cannot_write_go_the_JSON_path()
    {
        var order = (RecordSchema)Avro.Schema.Parse("""
            {"type": "record", "name": "O", "fields": [{"name": "id", "type": "long"}, {"name": "note", "type": ["null", "string"]},
             {"name": "attrs", "type": {"type": "map", "values": "long"}}]}
            """);
        var record = new GenericRecord(order);
        record.Add("id", 5L);
        record.Add("note", "a\0b");
        record.Add("attrs", new Dictionary<string, object> { ["w"] = 3L });
        var message = MessageBytes(await _producer.ValueAsync("orders", record));
        var intoMap = new AvroPaths(AvroMapping(MessageFormat.Json, Column("w", "value.attrs.w", "bigint")), _schemas);
        var withNul = new AvroPaths(AvroMapping(MessageFormat.Json, Column("note", "value.note", "text")), _schemas);
        var required = new AvroPaths(AvroMapping(MessageFormat.Json, Column("missing", "value.missing", "text")), _schemas);
        var byKey = new AvroPaths(AvroMapping(MessageFormat.Json, Column("k", "key", "text", nullable: true)), _schemas);

        // A path into a map: JSON object keys, which the JSON path reads.
        Assert.Null(intoMap.Direct(message));
        Assert.Equal(3L, intoMap.Values(message)[0]);
        // Errors come from the JSON path, which names them.
        Assert.Null(withNul.Direct(message));
        Assert.Contains("NUL", withNul.Json(message).Error!.Message, StringComparison.Ordinal);
        Assert.Null(required.Direct(message));
        Assert.Equal(ConversionErrorKind.MissingField, required.Json(message).Error!.Kind);
        Assert.Null(byKey.Direct(message));
        Assert.Null(intoMap.Direct(MessageBytes(message.Message.Value![..^1])));
    }
}
