using Avro;
using Avro.Generic;
using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.Benchmarks;

/// <summary>
/// The workload's order events in Avro, written by Confluent's AvroSerializer against the registry stand-in: the same
/// fields as the JSON (the customer as a nested record, the amount as decimal(12,2), created_at as timestamp-millis),
/// the same keys and partitions, so the Avro scenario writes the same rows as the JSON one.
/// </summary>
public sealed class AvroOrders(string registryUrl) : IDisposable
{
    private static readonly RecordSchema s_order = (RecordSchema)Avro.Schema.Parse("""
        {"type": "record", "name": "Order", "namespace": "bench", "fields": [
          {"name": "id", "type": "long"},
          {"name": "customer", "type": {"type": "record", "name": "CustomerRef", "fields": [{"name": "id", "type": {"type": "string", "logicalType": "uuid"}}]}},
          {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
          {"name": "currency", "type": "string"},
          {"name": "status", "type": "string"},
          {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
          {"name": "note", "type": "string"}
        ]}
        """);

    private static readonly RecordSchema s_customer = (RecordSchema)s_order["customer"].Schema;

    private readonly AvroProducerSerde _serde = new(registryUrl);

    public async IAsyncEnumerable<(int Partition, Message<byte[]?, byte[]?> Message)> MessagesAsync(string topic, OrderWorkload workload)
    {
        foreach (var e in workload.Events)
        {
            var value = await _serde.ValueAsync(topic, Record(e));
            yield return (e.Partition, new Message<byte[]?, byte[]?> { Key = OrderWorkload.Key(e), Value = value });
        }
    }

    private static GenericRecord Record(in OrderEvent e)
    {
        var customer = new GenericRecord(s_customer);
        customer.Add("id", e.CustomerId);
        var order = new GenericRecord(s_order);
        order.Add("id", e.Id);
        order.Add("customer", customer);
        // Two decimals exactly, as the schema says (the event's decimal may carry fewer digits: 1 for 1.00).
        order.Add("amount", new AvroDecimal(new System.Numerics.BigInteger(e.Amount * 100), 2));
        order.Add("currency", e.Currency);
        order.Add("status", e.Status);
        order.Add("created_at", e.CreatedAt);
        order.Add("note", e.Note);
        return order;
    }

    public void Dispose() => _serde.Dispose();
}
