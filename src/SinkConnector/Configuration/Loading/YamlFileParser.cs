using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace SinkConnector.Configuration.Loading;

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
    // An anchor maps to null while its node is still being built: an alias to it would make the node contain itself.
    private readonly Dictionary<string, YamlNode?> _anchors = new(StringComparer.Ordinal);

    // How many nodes each anchored subtree stands for, aliases expanded.
    private readonly Dictionary<YamlNode, long> _sizes = new(ReferenceEqualityComparer.Instance);
    private readonly List<DuplicateKey> _duplicates = [];
    private long _aliasedNodes;

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
            // YamlDotNet 16.3 reports some errors (a tab used for indentation) at an empty mark, line 1 column 1;
            // the scanner has stopped where the problem is.
            var at = e.Start.Index == 0 && e.End.Index == 0 && scanner.CurrentPosition.Index > 0 ? scanner.CurrentPosition : e.Start;
            errors.Add(SyntaxError(file, at, StripMarks(e.Message)));
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
            root = ParseNode(parser, "", 0).Node;
            parser.Consume<DocumentEnd>();
        }

        if (parser.Accept<DocumentStart>(out var second))
        {
            throw new YamlException(second.Start, second.End, "a configuration file holds one YAML document; remove the '---' separator");
        }

        parser.Consume<StreamEnd>();
        return new YamlFile(root, _duplicates);
    }

    /// <returns>The node, and how many nodes it stands for with aliases expanded.</returns>
    private (YamlNode Node, long Size) ParseNode(IParser parser, string path, int depth)
    {
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            if (!_anchors.TryGetValue(alias.Value.Value, out var target))
            {
                throw new YamlException(alias.Start, alias.End, $"alias *{alias.Value} refers to no anchor");
            }

            if (target is null)
            {
                throw new YamlException(alias.Start, alias.End, $"alias *{alias.Value} is inside the node it refers to; recursive aliases are not supported");
            }

            var size = _sizes.GetValueOrDefault(target, 1);
            _aliasedNodes += size;
            if (_aliasedNodes > ConfigLimits.MaxAliasedNodes)
            {
                throw new YamlException(
                    alias.Start, alias.End, $"aliases expand to more than {ConfigLimits.MaxAliasedNodes} nodes; write the values out or share fewer, smaller blocks");
            }

            return (target, size);
        }

        if (parser.TryConsume<Scalar>(out var scalar))
        {
            return (Remember(scalar, new YamlScalarNode(scalar.Value) { Style = scalar.Style }, 1), 1);
        }

        // Checked before recursing, so that a hostile depth costs one error, not the stack.
        if (depth >= ConfigLimits.MaxYamlDepth && parser.Current is NodeEvent { } deep)
        {
            throw new YamlException(deep.Start, deep.End, $"lists and mappings are nested more than {ConfigLimits.MaxYamlDepth} levels deep");
        }

        if (parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            var sequence = new YamlSequenceNode();
            Open(sequenceStart);
            long sequenceSize = 1;
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                var (item, size) = ParseNode(parser, YamlPath.Item(path, sequence.Children.Count), depth + 1);
                sequence.Add(item);
                sequenceSize += size;
            }

            return (Remember(sequenceStart, sequence, sequenceSize), sequenceSize);
        }

        var mappingStart = parser.Consume<MappingStart>();
        var mapping = new YamlMappingNode();
        Open(mappingStart);
        long mappingSize = 1;
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            var (key, keySize) = ParseNode(parser, path, depth + 1);
            var keyPath = YamlPath.Child(path, YamlPath.KeyText(key));
            var (value, valueSize) = ParseNode(parser, keyPath, depth + 1);
            mappingSize += keySize + valueSize;
            if (mapping.Children.ContainsKey(key))
            {
                _duplicates.Add(new DuplicateKey(path, keyPath));
            }
            else
            {
                mapping.Add(key, value);
            }
        }

        return (Remember(mappingStart, mapping, mappingSize), mappingSize);
    }

    /// <summary>Marks the anchor of a list or mapping being built, so that an alias inside it is refused.</summary>
    private void Open(NodeEvent nodeEvent)
    {
        if (!nodeEvent.Anchor.IsEmpty)
        {
            _anchors[nodeEvent.Anchor.Value] = null;
        }
    }

    private T Remember<T>(NodeEvent nodeEvent, T node, long size)
        where T : YamlNode
    {
        if (!nodeEvent.Anchor.IsEmpty)
        {
            _anchors[nodeEvent.Anchor.Value] = node;
            _sizes[node] = size;
        }

        return node;
    }
}
