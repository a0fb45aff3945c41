using System.Text;
using System.Text.Json;
using Avro;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>One topic into several tables by conditions (<c>when:</c>, <c>skip_when:</c>, <c>order:</c>) through the <c>sink</c> process.</summary>
public class RoutingTests(TestServices services)
{
    private static Message<byte[]?, byte[]?> Typed(string type, string json, bool test = false)
    {
        var headers = new Headers { { "type", Encoding.UTF8.GetBytes(type) } };
        if (test)
        {
            headers.Add("test", Encoding.UTF8.GetBytes("true"));
        }

        return new Message<byte[]?, byte[]?> { Value = Encoding.UTF8.GetBytes(json), Headers = headers };
    }

    [Fact]
    public async Task Fan_out_by_header_writes_parents_before_children_so_foreign_keys_hold_exactly_once_across_a_kill()
    {
        const int partitions = 2;
        const int chains = 300;
        await using var bed = await SinkTestBed.CreateAsync(services, "fanout", partitions);
        await bed.ExecuteAsync(
            """
            CREATE TABLE public.customers (id bigint PRIMARY KEY, name text NOT NULL);
            CREATE TABLE public.orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES public.customers);
            CREATE TABLE public.lines (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES public.orders, sku text NOT NULL);
            CREATE TABLE public.audit (kind text NOT NULL, src_partition integer NOT NULL, src_offset bigint NOT NULL, note integer,
                PRIMARY KEY (src_partition, src_offset));
            """);
        // Mapping names sort children first (a_lines, b_orders, events): only order: puts parents first.
        await bed.WriteMappingAsync("events.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.customers
            when: header.type == "customer"
            skip_when: header.test == "true"
            order: 1
            on_error: fail
            columns:
              id:   { from: value.id, type: bigint }
              name: { from: value.name, type: text }
            """);
        await bed.WriteMappingAsync("b_orders.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.orders
            when: header.type == "order"
            order: 2
            on_error: fail
            columns:
              id:          { from: value.id, type: bigint }
              customer_id: { from: value.customer_id, type: bigint }
            """);
        await bed.WriteMappingAsync("a_lines.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.lines
            when: header.type == "line"
            order: 3
            on_error: fail
            columns:
              id:       { from: value.id, type: bigint }
              order_id: { from: value.order_id, type: bigint }
              sku:      { from: value.sku, type: text }
            """);
        // Also takes orders and lines; a note that is not an integer fails here only.
        await bed.WriteMappingAsync("d_audit.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.audit
            when: header.type in ["order", "line"]
            order: 4
            columns:
              kind:          { from: header.type, type: text }
              src_partition: { from: partition, type: integer }
              src_offset:    { from: offset, type: bigint }
              note:          { from: value.note, type: integer, nullable: true }
            """);
        // A chain (customer, order, line) on one partition: parents come first within the partition, and mostly
        // share a batch with their children. Every tenth chain has a test customer (skip_when) and a ping (no mapping).
        var messages = new List<(int Partition, Message<byte[]?, byte[]?> Message)>();
        var badNotes = 0;
        for (var i = 0; i < chains; i++)
        {
            var partition = i % partitions;
            messages.Add((partition, Typed("customer", $$"""{"id":{{i}},"name":"c{{i}}"}""")));
            var note = i % 25 == 7 ? "\"x\"" : "1";
            badNotes += i % 25 == 7 ? 1 : 0;
            messages.Add((partition, Typed("order", $$"""{"id":{{i}},"customer_id":{{i}},"note":{{note}}}""")));
            messages.Add((partition, Typed("line", $$"""{"id":{{i}},"order_id":{{i}},"sku":"s{{i}}"}""")));
            if (i % 10 == 0)
            {
                messages.Add((partition, Typed("customer", $$"""{"id":{{-1 - i}},"name":"test"}""", test: true)));
                messages.Add((partition, Typed("ping", "{}")));
            }
        }

        await bed.ProduceAsync(bed.Topic, messages);

        await bed.RunAndKillAsync(new Random(chains));
        await bed.RunToCompletionAsync(messages.Count);

        Assert.Equal(chains, await bed.ScalarAsync("SELECT count(*) FROM public.customers WHERE id >= 0"));
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM public.customers WHERE id < 0"));
        Assert.Equal(chains, await bed.ScalarAsync("SELECT count(*) FROM public.orders"));
        Assert.Equal(chains, await bed.ScalarAsync("SELECT count(*) FROM public.lines WHERE sku = 's' || id"));
        Assert.Equal((2 * chains) - badNotes, await bed.ScalarAsync("SELECT count(*) FROM public.audit"));
        // Children and their parents committed by one transaction: the foreign keys were checked inside the batch.
        Assert.True(await bed.ScalarAsync(
            """
            SELECT count(*) FROM public.lines l JOIN public.orders o ON o.id = l.order_id JOIN public.customers c ON c.id = o.customer_id
            WHERE l.xmin = o.xmin AND o.xmin = c.xmin
            """) > 0);
        var deadLetters = await bed.QueryAsync("SELECT mapping, error_kind FROM sink.dead_letters", r => (r.GetString(0), r.GetString(1)));
        Assert.Equal(badNotes, deadLetters.Count);
        Assert.All(deadLetters, d => Assert.Equal(("d_audit", "WrongType"), d));
        // Skipped messages (test customers, pings) advanced the offsets too.
        Assert.Equal(messages.Count, await bed.CommittedAsync());
        // sink status: the topic's partitions once each, naming every mapping that reads it.
        var (exit, output) = await SinkProcess.RunToEndAsync(["status", "--config", bed.ConfigDirectory, "--json"], bed.Environment);
        Assert.True(exit == 0, output);
        var listed = JsonDocument.Parse(output).RootElement.GetProperty("partitions").EnumerateArray()
            .Select(p => (p.GetProperty("partition").GetInt32(), p.GetProperty("mapping").GetString())).ToList();
        Assert.Equal([(0, "a_lines, b_orders, d_audit, events"), (1, "a_lines, b_orders, d_audit, events")], listed);
    }

    [Fact]
    public async Task Avro_records_of_two_types_on_one_topic_go_each_to_its_own_table_by_schema_name()
    {
        const int customers = 20;
        await using var registry = SchemaRegistryStandIn.Start();
        // TopicRecordNameStrategy: the subject is <topic>-<record name>, so both types can live on one topic.
        using var producer = new AvroProducerSerde(registry.Url, SubjectNameStrategy.TopicRecord);
        await using var bed = await SinkTestBed.CreateAsync(services, "route_schema", partitions: 1);
        await bed.EnableSchemaRegistryAsync(registry.Url);
        await bed.ExecuteAsync(
            """
            CREATE TABLE public.customers (id bigint PRIMARY KEY, name text NOT NULL);
            CREATE TABLE public.orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES public.customers);
            """);
        await bed.WriteMappingAsync("events.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.customers
            format: avro
            when: schema == "shop.Customer"
            order: 1
            on_error: fail
            columns:
              id:   { from: value.id, type: bigint }
              name: { from: value.name, type: text }
            """);
        await bed.WriteMappingAsync("orders.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.orders
            format: avro
            when: schema == "shop.Order"
            order: 2
            on_error: fail
            columns:
              id:          { from: value.id, type: bigint }
              customer_id: { from: value.customer_id, type: bigint }
            """);
        var customer = Record("Customer", "name", "string");
        var order = Record("Order", "customer_id", "long");
        var ping = Record("Ping", "note", "string");
        async Task<(int, Message<byte[]?, byte[]?>)> Encode(RecordSchema schema, long id, object second)
        {
            var record = new GenericRecord(schema);
            record.Add("id", id);
            record.Add(schema.Fields[1].Name, second);
            return (0, new Message<byte[]?, byte[]?> { Value = await producer.ValueAsync(bed.Topic, record) });
        }

        // Each customer before its order on the one partition; a Ping now and then, which no mapping takes.
        var messages = new List<(int, Message<byte[]?, byte[]?>)>();
        for (var i = 0; i < customers; i++)
        {
            messages.Add(await Encode(customer, i, $"c{i}"));
            messages.Add(await Encode(order, 100 + i, (long)i));
            if (i % 5 == 0)
            {
                messages.Add(await Encode(ping, i, "p"));
            }
        }

        await bed.ProduceAsync(bed.Topic, messages);
        await bed.RunToCompletionAsync(messages.Count);

        Assert.Equal(customers, await bed.ScalarAsync("SELECT count(*) FROM public.customers WHERE name = 'c' || id"));
        Assert.Equal(customers, await bed.ScalarAsync("SELECT count(*) FROM public.orders WHERE id = 100 + customer_id"));
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));
        Assert.Contains($"POST /subjects/{bed.Topic}-shop.Order/versions", registry.Requests.Select(r => r.Split('?')[0]));
    }

    /// <summary>An Avro record <c>shop.{name}</c> with a long <c>id</c> and one more field.</summary>
    private static RecordSchema Record(string name, string field, string type) => (RecordSchema)Avro.Schema.Parse($$"""
        {"type": "record", "name": "{{name}}", "namespace": "shop", "fields": [{"name": "id", "type": "long"}, {"name": "{{field}}", "type": "{{type}}"}]}
        """);
}
