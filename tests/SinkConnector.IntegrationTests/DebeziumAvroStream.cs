using System.Numerics;
using Avro;
using Avro.Generic;
using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Debezium change events for a customers table as Debezium's AvroConverter writes them (Envelope with before/after/
/// source/op, Kafka Connect's Decimal, io.debezium.time types, a Key record), each delete followed by its tombstone,
/// encoded by Confluent's AvroSerializer, and the table they describe, applied in order.
/// </summary>
internal sealed class DebeziumAvroStream(int partitions, int seed)
{
    private const string ValueSchema = """
        {"type": "record", "name": "Envelope", "namespace": "dbserver1.inventory.customers", "fields": [
          {"name": "before", "type": ["null", {"type": "record", "name": "Value", "fields": [
            {"name": "id", "type": "long"},
            {"name": "name", "type": "string"},
            {"name": "email", "type": ["null", "string"], "default": null},
            {"name": "balance", "type": {"type": "bytes", "scale": 2, "precision": 10, "connect.version": 1,
              "connect.parameters": {"scale": "2", "connect.decimal.precision": "10"},
              "connect.name": "org.apache.kafka.connect.data.Decimal", "logicalType": "decimal"}},
            {"name": "updated_at", "type": {"type": "long", "connect.version": 1, "connect.name": "io.debezium.time.MicroTimestamp"}},
            {"name": "birthday", "type": ["null", {"type": "int", "connect.version": 1, "connect.name": "io.debezium.time.Date"}], "default": null}
          ], "connect.name": "dbserver1.inventory.customers.Value"}], "default": null},
          {"name": "after", "type": ["null", "Value"], "default": null},
          {"name": "source", "type": {"type": "record", "name": "Source", "namespace": "io.debezium.connector.postgresql", "fields": [
            {"name": "version", "type": "string"},
            {"name": "connector", "type": "string"},
            {"name": "name", "type": "string"},
            {"name": "ts_ms", "type": "long"},
            {"name": "db", "type": "string"},
            {"name": "table", "type": "string"},
            {"name": "lsn", "type": ["null", "long"], "default": null}
          ], "connect.name": "io.debezium.connector.postgresql.Source"}},
          {"name": "op", "type": "string"},
          {"name": "ts_ms", "type": ["null", "long"], "default": null}
        ], "connect.name": "dbserver1.inventory.customers.Envelope"}
        """;

    private const string KeySchema = """
        {"type": "record", "name": "Key", "namespace": "dbserver1.inventory.customers", "fields": [{"name": "id", "type": "long"}],
         "connect.name": "dbserver1.inventory.customers.Key"}
        """;

    private static readonly RecordSchema s_envelope = (RecordSchema)Avro.Schema.Parse(ValueSchema);
    private static readonly RecordSchema s_row = (RecordSchema)((UnionSchema)s_envelope["before"].Schema)[1];
    private static readonly RecordSchema s_source = (RecordSchema)s_envelope["source"].Schema;
    private static readonly RecordSchema s_key = (RecordSchema)Avro.Schema.Parse(KeySchema);

    private readonly Random _random = new(seed);
    private readonly List<(int Partition, long Id, Row? Row, string Op)> _events = [];
    private long _lsn = 1_000;

    /// <summary>A customer row as the table should end up holding it.</summary>
    public sealed record Row(string Name, string? Email, decimal Balance, DateTime UpdatedAt, DateOnly? Birthday, long Lsn);

    public SortedDictionary<long, Row> Expected { get; } = [];

    public int Deletes { get; private set; }

    public int Count => _events.Count + Deletes;

    /// <summary>Creates, updates and deletes over <paramref name="ids"/> keys.</summary>
    public void Changes(int count, int ids)
    {
        for (var i = 0; i < count; i++)
        {
            var id = (long)_random.Next(ids);
            var partition = (int)(id % partitions);
            _lsn += _random.Next(1, 50);
            if (Expected.ContainsKey(id) && _random.Next(5) == 0)
            {
                Expected.Remove(id);
                Deletes++;
                _events.Add((partition, id, null, "d"));
                continue;
            }

            var row = new Row(
                $"customer {id} v{i}",
                _random.Next(3) == 0 ? null : $"c{id}@example.com",
                _random.Next(-1_000_000, 1_000_000) / 100m,
                new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Unspecified).AddTicks(_random.NextInt64(0, TimeSpan.TicksPerDay * 365) / 10 * 10),
                _random.Next(2) == 0 ? null : new DateOnly(1950, 1, 1).AddDays(_random.Next(20_000)),
                _lsn);
            _events.Add((partition, id, row, Expected.ContainsKey(id) ? "u" : "c"));
            Expected[id] = row;
        }
    }

    /// <summary>The events as Kafka messages (a delete is followed by its tombstone), encoded through the registry.</summary>
    public async Task<List<(int Partition, Message<byte[]?, byte[]?> Message)>> EncodeAsync(AvroProducerSerde serde, string topic)
    {
        var messages = new List<(int, Message<byte[]?, byte[]?>)>();
        var images = new Dictionary<long, Row>();
        foreach (var (partition, id, row, op) in _events)
        {
            var key = new GenericRecord(s_key);
            key.Add("id", id);
            var keyBytes = await serde.KeyAsync(topic, key);
            var before = images.GetValueOrDefault(id);
            var envelope = new GenericRecord(s_envelope);
            envelope.Add("before", op == "c" || before is null ? null : Image(id, before));
            envelope.Add("after", row is null ? null : Image(id, row));
            envelope.Add("source", Source(row?.Lsn ?? _lsn));
            envelope.Add("op", op);
            envelope.Add("ts_ms", 1_700_000_000_000L);
            messages.Add((partition, new Message<byte[]?, byte[]?> { Key = keyBytes, Value = await serde.ValueAsync(topic, envelope) }));
            if (row is null)
            {
                images.Remove(id);
                messages.Add((partition, new Message<byte[]?, byte[]?> { Key = keyBytes, Value = null }));
            }
            else
            {
                images[id] = row;
            }
        }

        return messages;
    }

    private static GenericRecord Image(long id, Row row)
    {
        var image = new GenericRecord(s_row);
        image.Add("id", id);
        image.Add("name", row.Name);
        image.Add("email", row.Email);
        image.Add("balance", new AvroDecimal(new BigInteger(row.Balance * 100), 2));
        image.Add("updated_at", (row.UpdatedAt - DateTime.UnixEpoch).Ticks / 10);
        image.Add("birthday", row.Birthday is { } day ? day.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber : null);
        return image;
    }

    private static GenericRecord Source(long lsn)
    {
        var source = new GenericRecord(s_source);
        source.Add("version", "2.7.0.Final");
        source.Add("connector", "postgresql");
        source.Add("name", "dbserver1");
        source.Add("ts_ms", 1_700_000_000_000L);
        source.Add("db", "inventory");
        source.Add("table", "customers");
        source.Add("lsn", lsn);
        return source;
    }
}
