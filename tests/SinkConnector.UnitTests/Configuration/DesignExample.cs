namespace SinkConnector.UnitTests.Configuration;

/// <summary>The example configuration of the product contract (sink.yaml and mappings/orders.yaml), verbatim.</summary>
internal static class DesignExample
{
    public const string SinkYaml = """
        name: orders-sink                 # default consumer group id
        kafka:
          bootstrap_servers: ${KAFKA_BOOTSTRAP}
          group_id: orders-sink           # optional, defaults to name
          auto_offset_reset: earliest     # only for partitions with no stored offset
          properties: {}                  # passed through to librdkafka (security.protocol, sasl.*, ssl.*, ...)
        postgres:
          connection_string: ${SINK_POSTGRES}
          schema: sink                    # where offsets and dead letters live
        batch:
          max_rows: 10000
          max_bytes: 16MiB
          max_latency: 200ms
        shutdown_grace: 30s
        http:
          listen: 127.0.0.1:8080          # /healthz /readyz /metrics; omit to disable
        """;

    public const string OrdersYaml = """
        topic: orders                     # or topics: [a, b]
        table: public.orders              # schema-qualified
        format: json                      # json | debezium | connect-json | raw
        mode: insert                      # insert | upsert   (upsert: key required)
        key: [id]                         # key columns for upsert / delete
        delete_on_tombstone: false        # upsert mode: null value deletes by key
        on_error: dead_letter             # dead_letter | fail
        columns:
          id:           { from: value.id,          type: bigint }
          customer_id:  { from: value.customer.id, type: uuid }
          amount:       { from: value.amount,      type: "numeric(12,2)" }
          status:       { from: value.status,      type: text, default: new }
          created_at:   { from: value.created_at,  type: timestamptz }
          payload:      { from: value,             type: jsonb }
          src_key:      { from: key,               type: text }
          trace_id:     { from: header.trace-id,   type: text, nullable: true }
          kafka_offset: { from: offset,            type: bigint }
        """;
}
