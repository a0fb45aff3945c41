using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace SinkConnector.Configuration;

/// <summary>A key that appeared twice in one YAML mapping; <see cref="Path"/> is the dotted path of the repeated key.</summary>
internal readonly record struct DuplicateKey(string ParentPath, string Path);

/// <summary>A parsed YAML file: its root node (null for an empty file) and the keys it repeated.</summary>
internal sealed record YamlFile(YamlNode? Root, IReadOnlyList<DuplicateKey> Duplicates);

/// <summary>
/// Builds YamlDotNet representation-model nodes from parser events. <see cref="YamlStream"/> is not used because it
/// aborts the whole file on the first duplicate key; building the nodes here keeps the first occurrence, records the
/// duplicate, and lets every other problem in the file be reported too.
/// </summary>
internal sealed class YamlFileParser
{
    private readonly Dictionary<string, YamlNode> _anchors = new(StringComparer.Ordinal);
    private readonly List<DuplicateKey> _duplicates = [];

    private YamlFileParser()
    {
    }

    /// <summary>Parses <paramref name="text"/>; a syntax error becomes a <see cref="ConfigError"/> with line and column, and null is returned.</summary>
    public static YamlFile? Parse(string file, string text, List<ConfigError> errors)
    {
        var scanner = new Scanner(new StringReader(text));
        try
        {
            return new YamlFileParser().ParseStream(new Parser(scanner));
        }
        catch (YamlException e)
        {
            errors.Add(SyntaxError(file, e.Start, StripMarks(e.Message)));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet 16.3 throws this instead of a YamlException for some malformed input, e.g. an
            // unterminated flow sequence followed by more lines; the scanner still knows where it stopped.
            errors.Add(SyntaxError(file, scanner.CurrentPosition, "malformed YAML (an unclosed '[' or '{'?)"));
            return null;
        }
    }

    private static ConfigError SyntaxError(string file, Mark at, string reason) =>
        new(file, "", $"YAML syntax error at line {at.Line}, column {at.Column}: {reason}");

    // YamlException.Message starts with "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; the position is reported separately.
    private static string StripMarks(string message)
    {
        var end = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line:", StringComparison.Ordinal) && end >= 0 ? message[(end + 3)..] : message;
    }

    private YamlFile ParseStream(IParser parser)
    {
        parser.Consume<StreamStart>();
        YamlNode? root = null;
        if (parser.TryConsume<DocumentStart>(out _))
        {
            root = ParseNode(parser, "");
            parser.Consume<DocumentEnd>();
        }

        if (parser.Accept<DocumentStart>(out var second))
        {
            throw new YamlException(second.Start, second.End, "a configuration file holds one YAML document; remove the '---' separator");
        }

        parser.Consume<StreamEnd>();
        return new YamlFile(root, _duplicates);
    }

    private YamlNode ParseNode(IParser parser, string path)
    {
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            return _anchors.TryGetValue(alias.Value.Value, out var target)
                ? target
                : throw new YamlException(alias.Start, alias.End, $"alias *{alias.Value} refers to no anchor");
        }

        if (parser.TryConsume<Scalar>(out var scalar))
        {
            return Remember(scalar, new YamlScalarNode(scalar.Value) { Style = scalar.Style });
        }

        if (parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            var sequence = Remember(sequenceStart, new YamlSequenceNode());
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                sequence.Add(ParseNode(parser, YamlPath.Item(path, sequence.Children.Count)));
            }

            return sequence;
        }

        var mappingStart = parser.Consume<MappingStart>();
        var mapping = Remember(mappingStart, new YamlMappingNode());
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            var key = ParseNode(parser, path);
            var keyPath = YamlPath.Child(path, YamlPath.KeyText(key));
            var value = ParseNode(parser, keyPath);
            if (mapping.Children.ContainsKey(key))
            {
                _duplicates.Add(new DuplicateKey(path, keyPath));
            }
            else
            {
                mapping.Add(key, value);
            }
        }

        return mapping;
    }

    private T Remember<T>(NodeEvent nodeEvent, T node)
        where T : YamlNode
    {
        if (!nodeEvent.Anchor.IsEmpty)
        {
            _anchors[nodeEvent.Anchor.Value] = node;
        }

        return node;
    }
}
