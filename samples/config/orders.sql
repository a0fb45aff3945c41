-- The target table of mappings/orders.yaml: the quick start creates it, docker/compose.yaml runs it as a Postgres init script.
CREATE TABLE IF NOT EXISTS public.orders (
    id           bigint        NOT NULL,
    customer_id  uuid          NOT NULL,
    amount       numeric(12,2) NOT NULL,
    status       text          NOT NULL,
    created_at   timestamptz   NOT NULL,
    payload      jsonb         NOT NULL,
    src_key      text          NOT NULL,
    trace_id     text,
    kafka_offset bigint        NOT NULL
);
