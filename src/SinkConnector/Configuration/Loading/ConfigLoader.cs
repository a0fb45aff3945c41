using SinkConnector.Mapping;
using YamlDotNet.RepresentationModel;

namespace SinkConnector.Configuration.Loading;

/// <summary>
/// Loads a configuration directory (<c>sink.yaml</c> and <c>mappings/*.yaml</c>) and validates all of it before
/// failing, so that an operator sees every problem from one run of <c>sink validate</c>.
/// </summary>
public static class ConfigLoader
{
    public const string SinkFileName = "sink.yaml";
    public const string MappingsDirectoryName = "mappings";

    /// <summary>Loads and validates <paramref name="directory"/>.</summary>
    /// <param name="environment">Looks up <c>${NAME}</c> references; defaults to the process environment.</param>
    /// <param name="checkClients">
    /// Whether the Kafka client settings and the connection string must be what <c>sink run</c> can build; only a
    /// command that connects to neither (<c>sink migrate --script</c>) leaves them unchecked.
    /// </param>
    /// <exception cref="ConfigException">Listing every problem found, in all files.</exception>
    public static SinkConfig Load(string directory, Func<string, string?>? environment = null, bool checkClients = true)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var errors = new List<ConfigError>();
        var root = Path.GetFullPath(directory);
        if (File.Exists(root))
        {
            throw new ConfigException([new ConfigError(root, "", $"is a file; the configuration must be the directory that holds {SinkFileName} and {MappingsDirectoryName}/")]);
        }

        if (!Directory.Exists(root))
        {
            throw new ConfigException([new ConfigError(root, "", "configuration directory not found")]);
        }

        var realRoot = ConfigFiles.RealPath(root);
        var connector = ReadSinkFile(Path.Combine(root, SinkFileName), realRoot, environment, checkClients, errors);
        var mappings = ReadMappings(Path.Combine(root, MappingsDirectoryName), realRoot, environment, errors);
        if (connector is { SchemaRegistry: null })
        {
            foreach (var mapping in mappings.Where(m => m.ValueEncoding != PayloadEncoding.Json || m.KeyEncoding != PayloadEncoding.Json))
            {
                errors.Add(new ConfigError(mapping.File, mapping.ValueEncoding != PayloadEncoding.Json ? "encoding" : "key_encoding",
                    $"needs the schema registry: set schema_registry.url in {SinkFileName}"));
            }
        }

        if (errors.Count > 0)
        {
            throw new ConfigException(errors);
        }

        // Dead letters are built per mapping, so the connector-wide dead-letter settings travel with each one.
        return new SinkConfig(root, connector! with { MigrateHint = $"run `sink migrate --config {root}`" },
            [.. mappings.Select(m => m with { DeadLetters = connector!.DeadLetters })]);
    }

    private static ConnectorSettings? ReadSinkFile(string file, string realRoot, Func<string, string?> environment, bool checkClients, List<ConfigError> errors)
    {
        if (!File.Exists(file))
        {
            errors.Add(new ConfigError(file, "", "file not found"));
            return null;
        }

        var reader = new YamlValueReader(file, environment, errors);
        if (ReadRoot(file, realRoot, reader, errors) is not { } root || SinkFileReader.Read(root, reader) is not { } connector)
        {
            return null;
        }

        // What run builds from these settings at startup is built here too, so that validate fails where run would.
        return checkClients ? ClientSettingsCheck.Check(connector, reader) : connector;
    }

    private static List<MappingConfig> ReadMappings(string directory, string realRoot, Func<string, string?> environment, List<ConfigError> errors)
    {
        var mappings = new List<MappingConfig>();
        if (!Directory.Exists(directory))
        {
            errors.Add(new ConfigError(directory, "", "mappings directory not found (one YAML file per topic -> table mapping)"));
            return mappings;
        }

        var files = Directory.EnumerateFiles(directory)
            .Where(f => Path.GetExtension(f).ToLowerInvariant() is ".yaml" or ".yml")
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
        {
            errors.Add(new ConfigError(directory, "", "no mapping files (*.yaml, *.yml)"));
        }

        var fileByName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (!fileByName.TryAdd(name, file))
            {
                errors.Add(new ConfigError(file, "", $"mapping name '{name}' is also used by {fileByName[name]}; mapping names must be unique"));
            }

            var reader = new YamlValueReader(file, environment, errors);
            if (ReadRoot(file, realRoot, reader, errors) is not { } root)
            {
                continue;
            }

            var result = MappingFileReader.Read(root, reader, name);
            if (result.Mapping is { } mapping)
            {
                try
                {
                    // The converter checks what only makes sense per column type (defaults, sources per format).
                    // Key columns of columns from the schema may not be listed yet: they are checked once the schema is read.
                    _ = new MessageConverter(mapping.ColumnsFromSchema ? mapping with { Key = [] } : mapping);
                    mappings.Add(mapping);
                }
                catch (ArgumentException e)
                {
                    reader.Error("columns", e.Message);
                }
            }
        }

        return mappings;
    }

    /// <summary>Parses the file and returns its top-level mapping, after reporting its duplicate keys.</summary>
    private static YamlMappingNode? ReadRoot(string file, string realRoot, YamlValueReader reader, List<ConfigError> errors)
    {
        // A link out of the directory would let the config name any file the process can read, and error
        // messages quote parts of what they read.
        if (!ConfigFiles.IsInside(file, realRoot))
        {
            reader.Error("", "is a symbolic link to a file outside the configuration directory; copy the file into the directory instead");
            return null;
        }

        if (ConfigFiles.Read(file, reader) is not { } text)
        {
            return null;
        }

        if (YamlFileParser.Parse(file, text, errors) is not { } yaml)
        {
            return null;
        }

        foreach (var duplicate in yaml.Duplicates)
        {
            reader.Error(duplicate.Path, duplicate.ParentPath == "columns" ? "duplicate column" : "duplicate key");
        }

        if (YamlValueReader.IsNull(yaml.Root))
        {
            reader.Error("", "file is empty");
            return null;
        }

        if (yaml.Root is not YamlMappingNode root)
        {
            reader.Error("", $"the file must be a YAML mapping of keys to values, not {YamlPath.Kind(yaml.Root!)}");
            return null;
        }

        return root;
    }
}
