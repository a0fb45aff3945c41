using Confluent.Kafka;
using Npgsql;
using SinkConnector.Failures;

namespace SinkConnector.Configuration.Loading;

/// <summary>
/// Builds the Kafka consumer configuration and the Npgsql data source the way <c>sink run</c> does at startup, without
/// connecting, so that every command (and <c>sink validate</c> above all) reports their problems as config errors.
/// </summary>
internal static class ClientSettingsCheck
{
    private const string ConnectionStringPath = "postgres.connection_string";
    private const string PropertiesPath = "kafka.properties";

    /// <summary>Returns the settings (the connection string in keyword form), or null after reporting problems.</summary>
    public static ConnectorSettings? Check(ConnectorSettings settings, YamlValueReader reader)
    {
        var errorsBefore = reader.ErrorCount;
        var connectionString = CheckConnectionString(settings.Postgres.ConnectionString, reader);
        CheckKafka(settings, reader);
        return reader.ErrorCount > errorsBefore || connectionString is null
            ? null
            : settings with { Postgres = settings.Postgres with { ConnectionString = connectionString } };
    }

    private static string? CheckConnectionString(string text, YamlValueReader reader)
    {
        var keywords = text;
        if (PostgresUri.IsUri(text))
        {
            if (!PostgresUri.TryConvert(text, out var converted, out var uriError))
            {
                reader.Error(ConnectionStringPath, uriError!);
                return null;
            }

            keywords = converted!;
        }

        try
        {
            // The builder rejects unknown keywords and values of the wrong type; the data source checks what
            // depends on several keywords (a missing Host, Multiplexing with a bad pool size).
            _ = new NpgsqlConnectionStringBuilder(keywords);
            using var dataSource = NpgsqlDataSource.Create(keywords);
            return keywords;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException or NotSupportedException)
        {
            reader.Error(ConnectionStringPath, $"{ExceptionMessages.Chain(e, ": ")} (expected Host=...;Database=...;Username=...;Password=..., see the Npgsql connection string keywords)");
            return null;
        }
    }

    private static void CheckKafka(ConnectorSettings settings, YamlValueReader reader)
    {
        var config = ConsumerSettings.Build(settings);
        // Without brokers librdkafka checks every property and starts no connection.
        config.BootstrapServers = null;
        try
        {
            using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
                .SetLogHandler((_, _) => { })
                .SetErrorHandler((_, _) => { })
                .Build();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or KafkaException or FormatException or OverflowException)
        {
            reader.Error(PathOf(e.Message, settings.Kafka.Properties.Keys), $"librdkafka rejects it: {ExceptionMessages.Chain(e, ": ")}");
        }
    }

    /// <summary>The property the librdkafka message names (the longest one, so that a.b.c wins over a.b).</summary>
    private static string PathOf(string message, IEnumerable<string> keys) =>
        keys.Where(k => message.Contains(k, StringComparison.Ordinal)).MaxBy(k => k.Length) is { } key
            ? YamlPath.Child(PropertiesPath, key)
            : PropertiesPath;
}
