using SinkConnector.PgBinary;
using YamlDotNet.RepresentationModel;

namespace SinkConnector.Configuration.Loading;

/// <summary>Reads the <c>columns:</c> block of a mapping: one <c>{ from, type, nullable, default }</c> per target column.</summary>
internal static class MappingColumnReader
{
    /// <param name="format">The mapping's format, or null if it was invalid (format-specific checks are then skipped).</param>
    /// <param name="fromSchema">Columns come from the registry schema: <c>columns</c> may be omitted or list only overrides.</param>
    /// <returns>The valid columns, and the names of all declared columns (valid or not) so that key checks do not pile on.</returns>
    public static (List<ColumnMapping> Columns, HashSet<string> Declared) Read(YamlMappingNode root, YamlValueReader reader, MessageFormat? format, bool fromSchema = false)
    {
        var columns = new List<ColumnMapping>();
        var declared = new HashSet<string>(StringComparer.Ordinal);
        var node = YamlValueReader.Get(root, "columns");
        if (YamlValueReader.IsNull(node) && fromSchema)
        {
            return (columns, declared);
        }

        if (YamlValueReader.IsNull(node))
        {
            reader.Error("columns", "is required: map each target column to { from, type }");
            return (columns, declared);
        }

        if (reader.Mapping(node, "columns") is not { } map)
        {
            return (columns, declared);
        }

        if (map.Children.Count == 0 && !fromSchema)
        {
            reader.Error("columns", "must declare at least one column");
        }

        foreach (var (name, path, value) in reader.Entries(map, "columns"))
        {
            declared.Add(name);
            if (ReadColumn(name, path, value, reader, format) is { } column)
            {
                columns.Add(column);
            }
        }

        return (columns, declared);
    }

    private static ColumnMapping? ReadColumn(string name, string path, YamlNode node, YamlValueReader reader, MessageFormat? format)
    {
        var errorsBefore = reader.ErrorCount;
        if (!PostgresIdentifiers.TryValidateQuotedIdentifier(name, out var nameError))
        {
            reader.Error(path, $"column name {nameError}");
        }

        if (YamlValueReader.IsNull(node))
        {
            reader.Error(path, "needs { from, type }");
            return null;
        }

        if (reader.Mapping(node, path) is not { } column)
        {
            return null;
        }

        reader.RejectUnknownKeys(column, path, "from", "type", "nullable", "default", "on_null");
        var from = ReadSource(column, path, reader, format);
        var type = ReadType(column, path, reader);
        if (from is { Kind: SourceKind.Now } && type is not null && (type.IsArray || type.Scalar is not (ScalarType.TimestampTz or ScalarType.Timestamp)))
        {
            reader.Error(YamlPath.Child(path, "from"), $"now() is the batch's transaction time and needs type timestamptz or timestamp, not {type}");
        }

        var nullable = reader.Bool(column, path, "nullable") ?? false;
        var defaultNode = YamlValueReader.Get(column, "default");
        var defaultValue = YamlValueReader.IsNull(defaultNode) ? null : reader.Scalar(defaultNode, YamlPath.Child(path, "default"));
        var onNull = reader.Choice(column, path, "on_null", UpsertRulesReader.NullActions);
        return reader.ErrorCount > errorsBefore ? null : new ColumnMapping(name, from!, type!, nullable, defaultValue) { OnNull = onNull };
    }

    private static SourcePath? ReadSource(YamlMappingNode column, string path, YamlValueReader reader, MessageFormat? format)
    {
        var fromPath = YamlPath.Child(path, "from");
        if (reader.String(column, path, "from", required: true) is not { } text)
        {
            return null;
        }

        if (!SourceExpression.TryParse(text, out var source, out var error))
        {
            reader.Error(fromPath, error!);
            return null;
        }

        foreach (var part in source!.Parts)
        {
            CheckFormat(part, part.Text, fromPath, reader, format);
        }

        CheckFormat(source, text, fromPath, reader, format);
        return source;
    }

    private static void CheckFormat(SourcePath source, string text, string fromPath, YamlValueReader reader, MessageFormat? format)
    {
        if (source.Kind == SourceKind.Source && format is not (null or MessageFormat.Debezium))
        {
            reader.Error(fromPath, $"'{text}': source.<field> reads the Debezium envelope and needs format: debezium");
        }
        else if (source.Kind == SourceKind.Value && source.Segments.Count > 0 && format == MessageFormat.Raw)
        {
            reader.Error(fromPath, $"'{text}': format raw does not parse the value; use 'value' for the whole message");
        }
    }

    private static ColumnType? ReadType(YamlMappingNode column, string path, YamlValueReader reader)
    {
        if (reader.String(column, path, "type", required: true) is not { } text)
        {
            return null;
        }

        if (!ColumnType.TryParse(text, out var type, out var error))
        {
            reader.Error(YamlPath.Child(path, "type"), error!);
        }

        return type;
    }
}
