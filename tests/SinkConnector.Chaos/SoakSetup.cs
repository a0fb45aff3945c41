using SinkConnector.Testing;

namespace SinkConnector.Chaos;

/// <summary>
/// What the three sinks run with: one sink.yaml, two mappings (insert-mode events, upsert-mode accounts with
/// tombstone deletes, both dead-lettering), and the target tables. The CHECK constraints are there for the
/// "Rejected" poison: messages that convert fine but that Postgres refuses inside a batch.
/// </summary>
internal static class SoakSetup
{
    public const string GroupId = "chaos";

    public const string TablesSql = """
        CREATE TABLE public.events (
            id bigint NOT NULL CHECK (id >= 0), body text NOT NULL, payload jsonb NOT NULL,
            src_partition integer NOT NULL, src_offset bigint NOT NULL);
        CREATE TABLE public.accounts (
            id bigint PRIMARY KEY, balance numeric(14,2) NOT NULL, version bigint NOT NULL CHECK (version >= 0),
            src_offset bigint NOT NULL);
        """;

    // No unique index on events.id: a duplicate must show up as a second row, not as a rejected one.
    private const string EventsMapping = $$"""
        topic: {{Workload.EventsTopic}}
        table: public.events
        format: json
        mode: insert
        on_error: dead_letter
        columns:
          id:            { from: value.id, type: bigint }
          body:          { from: value.body, type: text }
          payload:       { from: value, type: jsonb }
          src_partition: { from: partition, type: integer }
          src_offset:    { from: offset, type: bigint }
        """;

    private const string AccountsMapping = $$"""
        topic: {{Workload.AccountsTopic}}
        table: public.accounts
        format: json
        mode: upsert
        key: [id]
        delete_on_tombstone: true
        on_error: dead_letter
        columns:
          id:         { from: value.id, type: bigint }
          balance:    { from: value.balance, type: "numeric(14,2)" }
          version:    { from: value.version, type: bigint }
          src_offset: { from: offset, type: bigint }
        """;

    /// <summary>Writes the config directory; connection strings come from the environment, as in production.</summary>
    public static void WriteConfig(string directory)
    {
        Directory.CreateDirectory(Path.Combine(directory, "mappings"));
        // session.timeout.ms 6 s (the tests' value): a SIGSTOP of 8-11 s makes a zombie the group has expired.
        File.WriteAllText(Path.Combine(directory, "sink.yaml"),
            SinkYaml.Render(GroupId, KafkaTestCluster.ClientProperties, "max_rows: 2000\n  max_latency: 200ms", shutdownGrace: "15s"));
        File.WriteAllText(Path.Combine(directory, "mappings", "events.yaml"), EventsMapping);
        File.WriteAllText(Path.Combine(directory, "mappings", "accounts.yaml"), AccountsMapping);
    }
}
