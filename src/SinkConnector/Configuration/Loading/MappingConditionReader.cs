using SinkConnector.Configuration.Routing;
using YamlDotNet.RepresentationModel;

namespace SinkConnector.Configuration.Loading;

/// <summary>Reads a mapping's <c>when:</c> / <c>skip_when:</c> and checks that its sources exist for the mapping's format.</summary>
internal static class MappingConditionReader
{
    public static Condition? Read(YamlMappingNode root, YamlValueReader reader, string key, MessageFormat? format, PayloadEncoding valueEncoding)
    {
        if (reader.String(root, "", key) is not { } text)
        {
            return null;
        }

        if (!ConditionParser.TryParse(text, out var condition, out var error))
        {
            reader.Error(key, $"'{text}' is not a condition: {error}");
            return null;
        }

        foreach (var source in Sources(condition!))
        {
            if (source.IsSchemaName && valueEncoding == PayloadEncoding.Json)
            {
                reader.Error(key, "schema (the writer schema's name) needs a registry encoding: encoding: avro, json_schema or protobuf");
            }
            else if (source.Path is { Kind: SourceKind.Source } && format != MessageFormat.Debezium)
            {
                reader.Error(key, $"{source} reads the Debezium envelope's source block: only for format: debezium");
            }
        }

        return condition;
    }

    private static IEnumerable<ConditionSource> Sources(Condition condition) => condition switch
    {
        AndCondition and => Sources(and.Left).Concat(Sources(and.Right)),
        OrCondition or => Sources(or.Left).Concat(Sources(or.Right)),
        NotCondition not => Sources(not.Inner),
        Comparison comparison => [comparison.Source],
        _ => [],
    };
}
