using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace SinkConnector.Configuration.Loading;

/// <summary>Reads and validates <c>sink.yaml</c> into <see cref="ConnectorSettings"/>.</summary>
internal static partial class SinkFileReader
{
    private static readonly Dictionary<string, AutoOffsetReset> s_offsetResets = new()
    {
        ["earliest"] = AutoOffsetReset.Earliest,
        ["latest"] = AutoOffsetReset.Latest,
    };

    // OpenSSL 3 loads a provider given as a path from that path: only names of installed providers are accepted.
    [GeneratedRegex("^[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+)*$")]
    private static partial Regex ProviderNamesPattern();

    // The default sasl.kerberos.kinit.cmd pastes these into a shell command (the principal unquoted, the keytab
    // in double quotes): shell syntax in them would run as a command.
    [GeneratedRegex("^[A-Za-z0-9._/@=+-]+$")]
    private static partial Regex KerberosPrincipalPattern();

    [GeneratedRegex(@"^[^""$`\\]+$")]
    private static partial Regex KerberosKeytabPattern();

    /// <summary>Returns the settings, or null if the file had problems (they are in the reader's error list).</summary>
    public static ConnectorSettings? Read(YamlMappingNode root, YamlValueReader reader)
    {
        var errorsBefore = reader.ErrorCount;
        reader.RejectUnknownKeys(root, "", "name", "kafka", "postgres", "batch", "shutdown_grace", "http", "dead_letters", "schema_registry");
        var name = reader.String(root, "", "name", required: true);
        var kafka = ReadKafka(reader.Mapping(root, "", "kafka") ?? [], reader, name);
        var postgres = ReadPostgres(reader.Mapping(root, "", "postgres") ?? [], reader);
        var batch = ReadBatch(reader.Mapping(root, "", "batch") ?? [], reader);
        var shutdownGrace = reader.Duration(root, "", "shutdown_grace");
        var http = ReadHttp(reader.Mapping(root, "", "http"), reader);
        var deadLetters = ReadDeadLetters(reader.Mapping(root, "", "dead_letters"), reader);
        var registry = SchemaRegistryReader.Read(reader.Mapping(root, "", "schema_registry"), reader);
        if (reader.ErrorCount > errorsBefore)
        {
            return null;
        }

        var defaults = new ConnectorSettings { Name = name!, Kafka = kafka, Postgres = postgres };
        return defaults with { Batch = batch, ShutdownGrace = shutdownGrace ?? defaults.ShutdownGrace, Http = http, DeadLetters = deadLetters, SchemaRegistry = registry };
    }

    private static KafkaSettings ReadKafka(YamlMappingNode kafka, YamlValueReader reader, string? name)
    {
        const string path = "kafka";
        reader.RejectUnknownKeys(kafka, path, "bootstrap_servers", "group_id", "auto_offset_reset", "properties");
        var settings = new KafkaSettings
        {
            BootstrapServers = reader.String(kafka, path, "bootstrap_servers", required: true) ?? "",
            GroupId = reader.String(kafka, path, "group_id") ?? name ?? "",
            Properties = ReadProperties(reader.Mapping(kafka, path, "properties"), reader),
        };
        return reader.Choice(kafka, path, "auto_offset_reset", s_offsetResets) is { } reset
            ? settings with { AutoOffsetReset = reset }
            : settings;
    }

    private static Dictionary<string, string> ReadProperties(YamlMappingNode? properties, YamlValueReader reader)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, path, value) in reader.Entries(properties ?? [], "kafka.properties"))
        {
            if (ConsumerSettings.ReservedProperties.TryGetValue(key, out var why))
            {
                reader.Error(path, $"cannot be set here: {why}");
            }
            else if (YamlValueReader.IsNull(value))
            {
                reader.Error(path, "needs a value");
            }
            else if (reader.Scalar(value, path) is { } text)
            {
                if (CheckProperty(key, text) is { } problem)
                {
                    reader.Error(path, problem);
                }
                else
                {
                    result[key] = text;
                }
            }
        }

        return result;
    }

    /// <summary>Values of properties that would reach a shell or a library loader; null if the value is safe.</summary>
    private static string? CheckProperty(string key, string value) => key switch
    {
        "ssl.providers" when !ProviderNamesPattern().IsMatch(value) =>
            "expected a comma-separated list of OpenSSL provider names (such as default,legacy), not paths",
        "sasl.kerberos.principal" when !KerberosPrincipalPattern().IsMatch(value) =>
            "may hold only letters, digits and . _ / @ = + - (it is passed to the kinit command)",
        "sasl.kerberos.keytab" when !KerberosKeytabPattern().IsMatch(value) =>
            "must not contain \", $, ` or \\ (it is passed to the kinit command)",
        _ => null,
    };

    private static PostgresSettings ReadPostgres(YamlMappingNode postgres, YamlValueReader reader)
    {
        const string path = "postgres";
        reader.RejectUnknownKeys(postgres, path, "connection_string", "schema");
        var settings = new PostgresSettings { ConnectionString = reader.String(postgres, path, "connection_string", required: true) ?? "" };
        var schema = reader.String(postgres, path, "schema");
        if (schema is not null && !PostgresIdentifiers.IsPlainIdentifier(schema))
        {
            reader.Error("postgres.schema", $"'{schema}' is not a valid schema name ([A-Za-z_][A-Za-z0-9_]*, at most {PostgresIdentifiers.MaxIdentifierBytes} characters)");
        }

        return schema is null ? settings : settings with { Schema = schema };
    }

    private static BatchSettings ReadBatch(YamlMappingNode batch, YamlValueReader reader)
    {
        const string path = "batch";
        reader.RejectUnknownKeys(batch, path, "max_rows", "max_bytes", "max_latency");
        var defaults = new BatchSettings();
        return new BatchSettings
        {
            MaxRows = reader.Int(batch, path, "max_rows", min: 1) ?? defaults.MaxRows,
            MaxBytes = reader.Size(batch, path, "max_bytes") ?? defaults.MaxBytes,
            MaxLatency = reader.Duration(batch, path, "max_latency") ?? defaults.MaxLatency,
        };
    }

    private static DeadLetterSettings ReadDeadLetters(YamlMappingNode? deadLetters, YamlValueReader reader)
    {
        if (deadLetters is null)
        {
            return new DeadLetterSettings();
        }

        reader.RejectUnknownKeys(deadLetters, "dead_letters", "redact_headers");
        var names = reader.StringList(deadLetters, "dead_letters", "redact_headers") ?? [];
        return new DeadLetterSettings { RedactHeaders = names.Select(n => n.Value).ToHashSet(StringComparer.OrdinalIgnoreCase) };
    }

    private static HttpSettings? ReadHttp(YamlMappingNode? http, YamlValueReader reader)
    {
        if (http is null)
        {
            return null;
        }

        reader.RejectUnknownKeys(http, "http", "listen");
        var listen = reader.String(http, "http", "listen", required: true);
        if (listen is not null && !ConfigValues.IsValidListenAddress(listen))
        {
            reader.Error("http.listen", $"'{listen}' is not host:port (for example 127.0.0.1:8080 or 0.0.0.0:8080)");
            return null;
        }

        return listen is null ? null : new HttpSettings(listen);
    }
}
