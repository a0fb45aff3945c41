namespace SinkConnector.Benchmarks;

/// <summary>Names (for <c>--scenarios</c>) and labels of the scenarios, in the order they run and are reported.</summary>
public static class Scenario
{
    public const string Copy = "copy";
    public const string CopyUpsert = "copy-upsert";
    public const string Consume = "consume";
    public const string Ef = "ef";
    public const string EfUpsert = "ef-upsert";
    public const string Library = "library";
    public const string LibraryUpsert = "library-upsert";
    public const string MultiRow = "multirow";
    public const string MultiRowUpsert = "multirow-upsert";
    public const string Sink = "sink";
    public const string SinkAvro = "sink-avro";
    public const string SinkUpsert = "sink-upsert";
    public const string PsqlCopy = "psql-copy";
    public const string SinkDefaultPrefetch = "sink-default-prefetch";
    public const string SinkFanOut = "sink-fanout";
    public const string SinkBaseline = "sink-baseline";
    public const string SinkUpsertBaseline = "sink-upsert-baseline";

    /// <summary>Steady-rate latency (Scenarios/SteadyRateLatency.cs): not a backlog scenario, so not in <see cref="All"/>; it runs after them.</summary>
    public const string Latency = "latency";

    public static IReadOnlyList<string> All { get; } = [Copy, PsqlCopy, CopyUpsert, Consume, Ef, EfUpsert, Library, LibraryUpsert, MultiRow, MultiRowUpsert, Sink, SinkBaseline, SinkAvro, SinkUpsert, SinkUpsertBaseline, SinkDefaultPrefetch, SinkFanOut];

    public static string Label(string name) => name switch
    {
        Copy => "(a) Postgres ceiling: binary COPY, rows in memory",
        PsqlCopy => "(a\") the server's raw ingest: `psql \\copy` of the same rows as CSV, one transaction",
        CopyUpsert => "(a') Postgres upsert ceiling: staged COPY + ON CONFLICT, rows in memory",
        Consume => "(b) Kafka ceiling: consume only",
        Ef => "(c) EF Core consumer, insert (AddRange + offsets, SaveChanges)",
        EfUpsert => "(c) EF Core consumer, upsert (load by ids, update or add)",
        Library => "library mode, insert (a handler adds the entity; exactly once, fenced)",
        LibraryUpsert => "library mode, upsert (a preload loads the batch's entities, the handler updates or adds each)",
        MultiRow => "(d) multi-row INSERT ... VALUES writer",
        MultiRowUpsert => "(d) multi-row INSERT ... ON CONFLICT writer",
        Sink => "SinkConnector `sink run`, mode insert",
        SinkAvro => "SinkConnector `sink run`, mode insert, the same events as Avro (Schema Registry wire format)",
        SinkUpsert => "SinkConnector `sink run`, mode upsert",
        SinkDefaultPrefetch => "`sink run`, mode insert, librdkafka's default prefetch (64 MiB queue, 50 MiB fetches)",
        SinkFanOut => "`sink run`, fan-out: one topic into 3 tables by a header (3 insert mappings with `when:`)",
        SinkBaseline => "`sink run` of the baseline build (`--baseline-sink-dll`), mode insert",
        SinkUpsertBaseline => "`sink run` of the baseline build (`--baseline-sink-dll`), mode upsert",
        _ => name,
    };

    public static string Short(string name) => name switch
    {
        Copy => "(a) COPY ceiling",
        CopyUpsert => "(a') upsert ceiling",
        Consume => "(b) consume only",
        Ef => "(c) EF Core insert",
        EfUpsert => "(c) EF Core upsert",
        Library => "library insert",
        LibraryUpsert => "library upsert",
        MultiRow => "(d) multi-row INSERT",
        MultiRowUpsert => "(d) multi-row ON CONFLICT",
        Sink => "sink insert",
        SinkAvro => "sink insert, Avro",
        SinkUpsert => "sink upsert",
        Latency => "steady-rate latency",
        PsqlCopy => "(a\") psql \\copy CSV",
        SinkDefaultPrefetch => "sink insert, default prefetch",
        SinkFanOut => "sink fan-out, 3 tables",
        SinkBaseline => "baseline sink insert",
        SinkUpsertBaseline => "baseline sink upsert",
        _ => name,
    };

    /// <summary>The scenarios that start the real <c>sink run</c> process.</summary>
    public static bool IsSinkProcess(string name) => name is Sink or SinkAvro or SinkUpsert or SinkDefaultPrefetch or SinkFanOut || IsBaseline(name);

    /// <summary>The sink scenarios run with <c>--baseline-sink-dll</c>: the same run's sink scenarios of another build.</summary>
    public static bool IsBaseline(string name) => name is SinkBaseline or SinkUpsertBaseline;

    /// <summary>The scenario a baseline scenario is compared with.</summary>
    public static string CurrentOf(string baseline) => baseline == SinkUpsertBaseline ? SinkUpsert : Sink;

    /// <summary>What runs on a backlog size (<c>--messages</c> beyond the second): the sink, its Kafka ceiling and the server's raw ingest.</summary>
    public static bool RunsOnBacklog(string name) => IsSinkProcess(name) || name is Consume or PsqlCopy;

    public static bool IsUpsert(string name) => name is CopyUpsert or EfUpsert or LibraryUpsert or MultiRowUpsert or SinkUpsert or SinkUpsertBaseline;

    /// <summary>The scenarios that stop after <c>--ef-share</c> of the topic: EF Core's change tracker sets their pace.</summary>
    public static bool IsEntityFramework(string name) => name is Ef or EfUpsert or Library or LibraryUpsert;
}
