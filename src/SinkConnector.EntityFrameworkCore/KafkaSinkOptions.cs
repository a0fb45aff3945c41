using SinkConnector.Configuration;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>What a handler's failure does to the consumer.</summary>
public enum HandlerErrorPolicy
{
    /// <summary>The message becomes a dead letter in the batch's transaction; the batch is done again without it.</summary>
    DeadLetter,

    /// <summary>The consumer stops (the host with it); nothing of the batch is committed, so the message is consumed again on restart.</summary>
    Fail,
}

/// <summary>
/// The consumer's settings, bound from the configuration section given to
/// <see cref="KafkaSinkServiceCollectionExtensions.AddKafkaSink{TContext}"/> and validated when the host starts.
/// </summary>
public sealed class KafkaSinkOptions
{
    /// <summary>Required: the Kafka brokers (host:port, comma-separated).</summary>
    public string BootstrapServers { get; set; } = "";

    /// <summary>Required: the consumer group; the stored offsets and dead letters belong to it.</summary>
    public string GroupId { get; set; } = "";

    /// <summary>Where a partition without a stored offset starts.</summary>
    public AutoOffsetReset AutoOffsetReset { get; set; } = AutoOffsetReset.Earliest;

    /// <summary>Passed through to librdkafka (security.protocol, sasl.*, ssl.*, ...); the protocol's own settings win.</summary>
    public Dictionary<string, string> Properties { get; set; } = [];

    /// <summary>The Postgres schema of the offsets and dead-letter tables, migrated by the consumer at startup.</summary>
    public string Schema { get; set; } = "sink";

    /// <summary>The database of those tables; by default the one of the app's DbContext (they must be the same database).</summary>
    public string? ConnectionString { get; set; }

    public int MaxBatchMessages { get; set; } = 1_000;

    public long MaxBatchBytes { get; set; } = 16L * 1024 * 1024;

    public TimeSpan MaxBatchLatency { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long the consumer may take on shutdown to commit its current batch and leave the group.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one handler call may take; a handler that runs longer fails (see <see cref="OnError"/>).</summary>
    public TimeSpan HandlerTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public HandlerErrorPolicy OnError { get; set; } = HandlerErrorPolicy.DeadLetter;

    /// <summary>Kafka header names whose values dead letters store as <c>[redacted]</c> (tokens, personal data).</summary>
    public List<string> RedactHeaders { get; set; } = [];

    /// <summary>The Schema Registry, for handlers with a Confluent deserializer; null when none has one.</summary>
    public SchemaRegistryOptions? SchemaRegistry { get; set; }

    /// <summary>The engine's settings; <paramref name="connectionString"/> is where the offsets are.</summary>
    internal ConnectorSettings ToConnector(string connectionString) => new()
    {
        Name = GroupId,
        Kafka = new KafkaSettings
        {
            BootstrapServers = BootstrapServers,
            GroupId = GroupId,
            AutoOffsetReset = AutoOffsetReset,
            Properties = new Dictionary<string, string>(Properties),
        },
        Postgres = new PostgresSettings { ConnectionString = connectionString, Schema = Schema },
        Batch = new BatchSettings { MaxRows = MaxBatchMessages, MaxBytes = MaxBatchBytes, MaxLatency = MaxBatchLatency },
        ShutdownGrace = ShutdownGrace,
        DeadLetters = ToDeadLetterSettings(),
        MigrateHint = "the app migrates it when it starts: restart it with a role that may create the schema",
    };

    internal DeadLetterSettings ToDeadLetterSettings() =>
        new() { RedactHeaders = new HashSet<string>(RedactHeaders, StringComparer.OrdinalIgnoreCase) };
}
