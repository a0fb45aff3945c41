using YamlDotNet.RepresentationModel;

namespace SinkConnector.Configuration.Loading;

/// <summary>What reading one mapping file produced: the mapping if it was valid, and its topics in any case.</summary>
/// <param name="Topics">Every well-formed topic with the YAML path it came from, for the cross-file "mapped twice" check.</param>
internal sealed record MappingReadResult(MappingConfig? Mapping, IReadOnlyList<(string Topic, string Path)> Topics);

/// <summary>Reads and validates one <c>mappings/*.yaml</c> file.</summary>
internal static class MappingFileReader
{
    // format: avro, json_schema and protobuf are plain records in that encoding (format: json with encoding: ...).
    private static readonly Dictionary<string, (MessageFormat Envelope, PayloadEncoding? Encoding)> s_formats = new()
    {
        ["json"] = (MessageFormat.Json, null),
        ["debezium"] = (MessageFormat.Debezium, null),
        ["connect-json"] = (MessageFormat.ConnectJson, null),
        ["raw"] = (MessageFormat.Raw, null),
        ["avro"] = (MessageFormat.Json, PayloadEncoding.Avro),
        ["json_schema"] = (MessageFormat.Json, PayloadEncoding.JsonSchema),
        ["protobuf"] = (MessageFormat.Json, PayloadEncoding.Protobuf),
    };

    private static readonly Dictionary<string, PayloadEncoding> s_encodings = new()
    {
        ["json"] = PayloadEncoding.Json,
        ["avro"] = PayloadEncoding.Avro,
        ["json_schema"] = PayloadEncoding.JsonSchema,
        ["protobuf"] = PayloadEncoding.Protobuf,
    };

    private static readonly Dictionary<string, WriteMode> s_modes = new()
    {
        ["insert"] = WriteMode.Insert,
        ["upsert"] = WriteMode.Upsert,
    };

    private static readonly Dictionary<string, ErrorPolicy> s_errorPolicies = new()
    {
        ["dead_letter"] = ErrorPolicy.DeadLetter,
        ["fail"] = ErrorPolicy.Fail,
    };

    public static MappingReadResult Read(YamlMappingNode root, YamlValueReader reader, string name)
    {
        var errorsBefore = reader.ErrorCount;
        reader.RejectUnknownKeys(
            root, "", ["topic", "topics", "topics_regex", "table", "format", "mode", "key", "delete_on_tombstone", "on_error", "auto_create", "auto_evolve", "columns",
            "encoding", "key_encoding", "partition", "when", "skip_when", "order", "columns_from_schema", .. UpsertRulesReader.Keys]);
        var pattern = TopicsRegexReader.Read(root, reader);
        var topics = pattern is null && YamlValueReader.IsNull(YamlValueReader.Get(root, "topics_regex")) ? ReadTopics(root, reader) : [];
        var (table, template) = TopicsRegexReader.IsTemplate(root)
            ? TopicsRegexReader.ReadTemplate(root, reader, pattern)
            : (ReadTable(root, reader), null);
        var (format, formatValid, valueEncoding, keyEncoding) = ReadFormat(root, reader);
        var mode = reader.Choice(root, "", "mode", s_modes) ?? WriteMode.Insert;
        var onError = reader.Choice(root, "", "on_error", s_errorPolicies);
        var deleteOnTombstone = reader.Bool(root, "", "delete_on_tombstone") ?? false;
        var autoCreate = reader.Bool(root, "", "auto_create") ?? false;
        var autoEvolve = reader.Bool(root, "", "auto_evolve") ?? false;
        var fromSchema = SchemaColumnsReader.Read(root, reader, valueEncoding);
        var (columns, declared) = MappingColumnReader.Read(root, reader, formatValid ? format ?? MessageFormat.Json : null, fromSchema);
        var key = ReadKey(root, reader, mode, columns, declared, fromSchema);
        var partition = PartitionReader.Read(root, reader, table, mode, columns, key);
        var when = MappingConditionReader.Read(root, reader, "when", format, valueEncoding);
        var skipWhen = MappingConditionReader.Read(root, reader, "skip_when", format, valueEncoding);
        var order = reader.Int(root, "", "order", int.MinValue) ?? 0;
        var upsert = UpsertRulesReader.Read(root, reader, mode, formatValid ? format ?? MessageFormat.Json : null, columns, declared, key);
        TopicsRegexReader.CheckCombinations(reader, pattern, template, fromSchema, partition is not null);
        if (deleteOnTombstone && mode != WriteMode.Upsert)
        {
            reader.Error("delete_on_tombstone", "is only allowed with mode: upsert (a delete needs the key columns)");
        }
        else if (deleteOnTombstone && format == MessageFormat.Debezium)
        {
            reader.Error("delete_on_tombstone", "does not apply to format: debezium, which deletes on 'd' events and skips the tombstone that follows each");
        }

        if (reader.ErrorCount > errorsBefore)
        {
            return new MappingReadResult(null, topics);
        }

        var mapping = new MappingConfig
        {
            Name = name,
            File = reader.File,
            Topics = [.. topics.Select(t => t.Topic)],
            Table = table!,
            TopicsRegex = pattern,
            TableTemplate = template,
            Format = format ?? MessageFormat.Json,
            ValueEncoding = valueEncoding,
            KeyEncoding = keyEncoding,
            Mode = mode,
            Key = key,
            DeleteOnTombstone = deleteOnTombstone,
            OnError = onError ?? ErrorPolicy.DeadLetter,
            AutoCreate = autoCreate,
            AutoEvolve = autoEvolve,
            Partition = partition,
            Columns = columns,
            When = when,
            SkipWhen = skipWhen,
            Order = order,
            ColumnsFromSchema = fromSchema,
            NewerBy = upsert.NewerBy,
            UpdateColumns = upsert.UpdateColumns,
            OnNull = upsert.OnNull,
            KeepUnavailableValues = upsert.KeepUnavailableValues,
        };
        return new MappingReadResult(mapping, topics);
    }

    /// <summary>
    /// The envelope (<c>format</c>) and the encodings of value and key. <c>format: avro</c> is shorthand for
    /// <c>format: json</c> with <c>encoding: avro</c>; an envelope that is itself an encoding (connect-json, raw) takes none.
    /// </summary>
    private static (MessageFormat? Format, bool Valid, PayloadEncoding Value, PayloadEncoding Key) ReadFormat(YamlMappingNode root, YamlValueReader reader)
    {
        var chosen = reader.Choice(root, "", "format", s_formats);
        var valid = chosen is not null || YamlValueReader.IsNull(YamlValueReader.Get(root, "format"));
        var encoding = reader.Choice(root, "", "encoding", s_encodings);
        var keyEncoding = reader.Choice(root, "", "key_encoding", s_encodings);
        if (chosen?.Encoding is { } implied && encoding is { } written && written != implied)
        {
            reader.Error("encoding", $"contradicts format: {YamlValueReader.Get(root, "format")}; leave encoding out, or write format: json with this encoding");
        }

        var value = chosen?.Encoding ?? encoding ?? PayloadEncoding.Json;
        var key = keyEncoding ?? value;
        if (chosen?.Envelope is MessageFormat.ConnectJson or MessageFormat.Raw && (value, key) != (PayloadEncoding.Json, PayloadEncoding.Json))
        {
            reader.Error(encoding is not null ? "encoding" : "key_encoding",
                $"does not apply to format: {YamlValueReader.Get(root, "format")}, which is its own encoding; use format: json or debezium with encoding: avro or json_schema");
        }

        return (chosen?.Envelope, valid, value, key);
    }

    private static List<(string Topic, string Path)> ReadTopics(YamlMappingNode root, YamlValueReader reader)
    {
        var hasTopic = !YamlValueReader.IsNull(YamlValueReader.Get(root, "topic"));
        var hasTopics = !YamlValueReader.IsNull(YamlValueReader.Get(root, "topics"));
        if (hasTopic && hasTopics)
        {
            reader.Error("topics", "set either topic or topics, not both");
            return [];
        }

        if (!hasTopic && !hasTopics)
        {
            reader.Error("topic", "is required (or topics: [a, b] for several)");
            return [];
        }

        var listed = hasTopic
            ? reader.String(root, "", "topic") is { } one ? [(one, "topic")] : []
            : reader.StringList(root, "", "topics") ?? [];
        if (YamlValueReader.Get(root, "topics") is YamlSequenceNode { Children.Count: 0 })
        {
            reader.Error("topics", "must list at least one topic");
        }

        var topics = new List<(string Topic, string Path)>();
        foreach (var (topic, path) in listed)
        {
            if (!ConfigValues.IsValidTopicName(topic))
            {
                reader.Error(path, $"'{topic}' is not a valid Kafka topic name (letters, digits, '.', '_', '-'; at most 249)");
            }
            else if (topics.Any(t => t.Topic == topic))
            {
                reader.Error(path, $"topic '{topic}' is listed twice");
            }
            else
            {
                topics.Add((topic, path));
            }
        }

        return topics;
    }

    private static TableName? ReadTable(YamlMappingNode root, YamlValueReader reader)
    {
        if (reader.String(root, "", "table", required: true) is not { } text)
        {
            return null;
        }

        if (!PostgresIdentifiers.TryParseTableName(text, out var table, out var error))
        {
            reader.Error("table", error!);
        }

        return table;
    }

    private static List<string> ReadKey(
        YamlMappingNode root, YamlValueReader reader, WriteMode mode, IReadOnlyList<ColumnMapping> columns, HashSet<string> declared, bool fromSchema)
    {
        var listed = reader.StringList(root, "", "key") ?? [];
        // Columns from the schema: the key may name fields not listed (checked when the schema is read), or be the key schema's fields.
        if (mode == WriteMode.Upsert && listed.Count == 0 && !fromSchema)
        {
            reader.Error("key", "is required for mode: upsert (the columns that identify a row)");
        }

        var key = new List<string>();
        foreach (var (column, path) in listed)
        {
            if (!declared.Contains(column) && !fromSchema)
            {
                reader.Error(path, $"column '{column}' is not declared in columns");
            }
            else if (key.Contains(column))
            {
                reader.Error(path, $"column '{column}' is listed twice");
            }
            else if (columns.FirstOrDefault(c => c.Name == column) is { From.Kind: SourceKind.Now })
            {
                reader.Error(path, $"key column '{column}' cannot be from: now(): every batch would write a new key");
            }
            else if (mode == WriteMode.Upsert && columns.FirstOrDefault(c => c.Name == column) is { Nullable: true })
            {
                reader.Error(path, $"key column '{column}' cannot be nullable: a row without a key cannot be upserted");
            }
            else
            {
                key.Add(column);
            }
        }

        return key;
    }
}
