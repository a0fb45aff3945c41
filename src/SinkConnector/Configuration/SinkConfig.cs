using SinkConnector.Configuration.Routing;
using SinkConnector.PgBinary;

namespace SinkConnector.Configuration;

/// <summary>A loaded and validated configuration directory: <c>sink.yaml</c> plus <c>mappings/*.yaml</c>.</summary>
public sealed record SinkConfig(string Directory, ConnectorSettings Connector, IReadOnlyList<MappingConfig> Mappings);

/// <summary>The connector-wide settings of <c>sink.yaml</c>.</summary>
public sealed record ConnectorSettings
{
    public required string Name { get; init; }
    public required KafkaSettings Kafka { get; init; }
    public required PostgresSettings Postgres { get; init; }
    public BatchSettings Batch { get; init; } = new();
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(30);
    public HttpSettings? Http { get; init; }
    public DeadLetterSettings DeadLetters { get; init; } = new();

    /// <summary>What error messages tell the operator to do when the connector schema is missing or older than this build.</summary>
    public string MigrateHint { get; init; } = "run `sink migrate`";

    /// <summary>The <c>schema_registry</c> section; needed by mappings whose encoding is avro or json_schema.</summary>
    public SchemaRegistrySettings? SchemaRegistry { get; init; }
}

public sealed record KafkaSettings
{
    public required string BootstrapServers { get; init; }

    /// <summary>Defaults to <see cref="ConnectorSettings.Name"/>.</summary>
    public required string GroupId { get; init; }

    /// <summary>Where to start a partition that has no offset stored in Postgres.</summary>
    public AutoOffsetReset AutoOffsetReset { get; init; } = AutoOffsetReset.Earliest;

    /// <summary>Passed through to librdkafka (security.protocol, sasl.*, ssl.*, ...).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();
}

public enum AutoOffsetReset
{
    Earliest,
    Latest,
}

public sealed record PostgresSettings
{
    public required string ConnectionString { get; init; }

    /// <summary>Schema of the connector's own tables (offsets, dead letters).</summary>
    public string Schema { get; init; } = "sink";
}

public sealed record BatchSettings
{
    public int MaxRows { get; init; } = 10_000;
    public long MaxBytes { get; init; } = 16L * 1024 * 1024;
    public TimeSpan MaxLatency { get; init; } = TimeSpan.FromMilliseconds(200);
}

public sealed record HttpSettings(string Listen);

/// <summary>The <c>dead_letters</c> section of <c>sink.yaml</c>.</summary>
public sealed record DeadLetterSettings
{
    /// <summary>Kafka header names (case-insensitive) whose values are replaced by <see cref="RedactedHeaderValue"/> before a dead letter is stored.</summary>
    public IReadOnlySet<string> RedactHeaders { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>What a dead letter stores instead of the value of a header named in <see cref="RedactHeaders"/>.</summary>
    public const string RedactedHeaderValue = "[redacted]";
}

/// <summary>One <c>mappings/*.yaml</c> file: topics into one table.</summary>
public sealed record MappingConfig
{
    /// <summary>The file name without extension; names the mapping in dead letters and logs.</summary>
    public required string Name { get; init; }

    /// <summary>Path of the YAML file, for error messages.</summary>
    public required string File { get; init; }

    /// <summary>The listed topics (<c>topic</c>/<c>topics</c>); empty for a <see cref="TopicsRegex"/> mapping.</summary>
    public required IReadOnlyList<string> Topics { get; init; }

    /// <summary>The target table; for a <see cref="TableTemplate"/> mapping only a stand-in (the template's schema and text).</summary>
    public required TableName Table { get; init; }

    /// <summary><c>topics_regex</c>: the mapping reads every topic this matches, also ones created while the sink runs.</summary>
    public TopicPattern? TopicsRegex { get; init; }

    /// <summary>A <c>table:</c> with placeholders: each topic of <see cref="TopicsRegex"/> has its own table (<see cref="TopicMappings"/>).</summary>
    public TableTemplate? TableTemplate { get; init; }

    /// <summary>Set on a topic's mapping whose <see cref="Table"/> a template rendered: the sink prepares it when the topic is first written, not at startup.</summary>
    public bool TableFromTemplate { get; init; }
    public MessageFormat Format { get; init; } = MessageFormat.Json;

    /// <summary>How value bytes are encoded; the <see cref="Format"/> (envelope) is read from what they decode to.</summary>
    public PayloadEncoding ValueEncoding { get; init; } = PayloadEncoding.Json;

    /// <summary>How key bytes are encoded; defaults to <see cref="ValueEncoding"/>.</summary>
    public PayloadEncoding KeyEncoding { get; init; } = PayloadEncoding.Json;
    public WriteMode Mode { get; init; } = WriteMode.Insert;
    public IReadOnlyList<string> Key { get; init; } = [];
    public bool DeleteOnTombstone { get; init; }
    public ErrorPolicy OnError { get; init; } = ErrorPolicy.DeadLetter;
    public bool AutoCreate { get; init; }
    public bool AutoEvolve { get; init; }

    /// <summary>The <c>partition:</c> key: a range-partitioned table whose partitions the sink creates ahead; null otherwise.</summary>
    public PartitionSpec? Partition { get; init; }
    public required IReadOnlyList<ColumnMapping> Columns { get; init; }

    /// <summary>
    /// Whether the columns come from the value schema in the registry (<c>columns_from_schema</c>): until resolved at
    /// startup <see cref="Columns"/> holds only the overrides; afterwards <see cref="SchemaColumns"/> says from which schema.
    /// </summary>
    public bool ColumnsFromSchema { get; init; }

    /// <summary>Set once the columns of a <see cref="ColumnsFromSchema"/> mapping were derived from a registry schema.</summary>
    public SchemaColumnSource? SchemaColumns { get; init; }

    /// <summary>Mode upsert: a change applies only when its value of this column is greater than the stored one (<see cref="UpsertRules"/>).</summary>
    public string? NewerBy { get; init; }

    /// <summary>Mode upsert: the columns an update sets; null: every non-key column. An insert always sets all.</summary>
    public IReadOnlyList<string>? UpdateColumns { get; init; }

    /// <summary>Mode upsert: what a null or missing value does to the stored one, for columns that do not say.</summary>
    public NullAction OnNull { get; init; } = NullAction.Overwrite;

    /// <summary>Mode upsert, format debezium: Debezium's placeholder for an unchanged TOASTed value keeps the stored value.</summary>
    public bool KeepUnavailableValues { get; init; }

    /// <summary>The connector-wide <see cref="ConnectorSettings.DeadLetters"/>, carried here because dead letters are built per mapping.</summary>
    public DeadLetterSettings DeadLetters { get; init; } = new();

    /// <summary><c>when:</c> the mapping takes a message of its topics only if this holds (null: every message).</summary>
    public Condition? When { get; init; }

    /// <summary><c>skip_when:</c> the mapping leaves a message out if this holds.</summary>
    public Condition? SkipWhen { get; init; }

    /// <summary><c>order:</c> within a batch's transaction, tables are written by ascending order (then mapping name), so parents go before children.</summary>
    public int Order { get; init; }

    /// <summary>Positions of the <see cref="Key"/> columns in <see cref="Columns"/>, and so in converted value arrays.</summary>
    public int[] KeyIndexes() => [.. Key.Select(k => Columns.ToList().FindIndex(c => c.Name == k))];
}

/// <summary>The registry schema a mapping's columns were derived from, and which of its columns are fields of it (not overrides).</summary>
/// <param name="SchemaId">The id of the newest schema whose fields the table has columns for: the table's schema id.</param>
public sealed record SchemaColumnSource(string Subject, int SchemaId, IReadOnlySet<string> Derived);

/// <summary>A schema-qualified table name. Always quoted when it reaches SQL.</summary>
public sealed record TableName(string Schema, string Name)
{
    public override string ToString() => $"{Schema}.{Name}";
}

public enum MessageFormat
{
    Json,
    Debezium,
    ConnectJson,
    Raw,
}

/// <summary>How a key or value is encoded on the wire, separate from the envelope (<see cref="MessageFormat"/>) inside it.</summary>
public enum PayloadEncoding
{
    /// <summary>UTF-8 JSON (a key may also be plain text).</summary>
    Json,

    /// <summary>Schema Registry wire format: magic byte 0, 4-byte big-endian schema id, Avro binary.</summary>
    Avro,

    /// <summary>Schema Registry wire format: magic byte 0, 4-byte big-endian schema id, UTF-8 JSON.</summary>
    JsonSchema,

    /// <summary>Schema Registry wire format: magic byte 0, 4-byte big-endian schema id, the message indexes, Protobuf binary.</summary>
    Protobuf,
}

public enum WriteMode
{
    Insert,
    Upsert,
}

public enum ErrorPolicy
{
    DeadLetter,
    Fail,
}

/// <summary>One target column: where its value comes from and its Postgres type.</summary>
/// <param name="Default">Text of the YAML default, converted like an input value of <paramref name="Type"/>.</param>
public sealed record ColumnMapping(string Name, SourcePath From, ColumnType Type, bool Nullable, string? Default)
{
    /// <summary>Mode upsert: this column's own <c>on_null</c>, overriding <see cref="MappingConfig.OnNull"/>.</summary>
    public NullAction? OnNull { get; init; }
}

/// <summary>What a null or missing value does to a stored row in mode upsert.</summary>
public enum NullAction
{
    /// <summary>It is written: the column becomes null.</summary>
    Overwrite,

    /// <summary>The stored value stays (<c>COALESCE</c>); the column then can never be set back to null.</summary>
    Keep,
}
