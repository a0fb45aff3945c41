using System.Text.Json;
using System.Text.Unicode;
using SinkConnector.Configuration;

namespace SinkConnector.Mapping.Conversion;

/// <summary>
/// Finds where every <c>value.*</c> column's token starts in a format-json value with one forward pass of
/// <see cref="Utf8JsonReader"/>: no <see cref="JsonDocument"/>, no allocation. Only for paths of property names (an
/// array index needs the document); the columns' converters then read each token in place. Anything unusual
/// (not UTF-8, not JSON, not an object) returns false, and the caller takes the document path, whose errors are
/// the ones users see.
/// </summary>
internal sealed class JsonFieldIndex
{
    private readonly Node _root;
    private readonly int _columns;

    private JsonFieldIndex(Node root, int columns)
    {
        _root = root;
        _columns = columns;
    }

    /// <summary>The index for a mapping's plans, or null when the mapping has no value paths it can serve.</summary>
    public static JsonFieldIndex? TryCreate(ColumnPlan[] plans, MessageFormat format)
    {
        // A column holding the whole value as JSON (payload: value, jsonb) parses the document for every message
        // anyway: reading the fields from that document is cheaper than a second pass over the bytes.
        if (format != MessageFormat.Json || plans.Any(p => p.Access == ColumnAccess.WholeValue && p.Mode == WholeMode.Json))
        {
            return null;
        }

        var root = new Node([]);
        var any = false;
        for (var i = 0; i < plans.Length; i++)
        {
            if (plans[i].Access != ColumnAccess.ValuePath)
            {
                continue;
            }

            if (plans[i].Steps.Any(s => s.Utf8Name is null))
            {
                return null;
            }

            var node = root;
            foreach (var step in plans[i].Steps)
            {
                node = node.Child(step.Utf8Name!);
            }

            node.Columns.Add(i);
            any = true;
        }

        return any ? new JsonFieldIndex(root.Freeze(), plans.Length) : null;
    }

    /// <summary>
    /// Sets <paramref name="starts"/>[i] to where column i's token starts in <paramref name="json"/>, or -1 when the
    /// path is absent. Like <see cref="JsonElement.TryGetProperty(string, out JsonElement)"/>, the last of duplicate
    /// properties wins, and what was found under an earlier duplicate is forgotten.
    /// </summary>
    public bool TryLocate(ReadOnlySpan<byte> json, Span<int> starts)
    {
        if (starts.Length < _columns)
        {
            throw new ArgumentException($"needs room for {_columns} columns", nameof(starts));
        }

        // JsonDocument rejects invalid UTF-8 only when a string is read; the document path reports it up front.
        if (!Utf8.IsValid(json))
        {
            return false;
        }

        starts.Fill(-1);
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            // Trailing content after the object is invalid JSON (the reader throws on anything but whitespace).
            return Walk(ref reader, _root, starts) && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Reader on a StartObject; leaves it on the matching EndObject. False when a property name or string has an
    /// escape of an unpaired surrogate anywhere in the object (<see cref="UnicodeEscapes"/>): the document path then
    /// reports it, for the whole value as it does for invalid UTF-8. Only escaped tokens are looked at, so plain text
    /// costs nothing more than the reader's own pass.
    /// </summary>
    private static bool Walk(ref Utf8JsonReader reader, Node node, Span<int> starts)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            // Checked before it is compared: comparing an escaped name decodes it, which throws on such an escape.
            if (!UnicodeEscapes.IsDecodable(ref reader))
            {
                return false;
            }

            var child = node.Find(ref reader);
            reader.Read();
            if (child is not null)
            {
                foreach (var column in child.Below)
                {
                    starts[column] = -1;
                }

                foreach (var column in child.Columns)
                {
                    starts[column] = (int)reader.TokenStartIndex;
                }

                if (child.Children.Length > 0 && reader.TokenType == JsonTokenType.StartObject)
                {
                    if (!Walk(ref reader, child, starts))
                    {
                        return false;
                    }

                    continue;
                }
            }

            if (!Skip(ref reader))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary><see cref="Utf8JsonReader.Skip"/> (the same token-by-token read), checking every string and name on the way.</summary>
    private static bool Skip(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return UnicodeEscapes.IsDecodable(ref reader);
        }

        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (!UnicodeEscapes.IsDecodable(ref reader))
            {
                return false;
            }
        }

        return true;
    }

    private sealed class Node(byte[] name)
    {
        private readonly List<Node> _children = [];

        public byte[] Name { get; } = name;

        /// <summary>Columns whose path ends here.</summary>
        public List<int> Columns { get; } = [];

        public Node[] Children { get; private set; } = [];

        /// <summary>Columns whose path ends here or deeper: reset when this property appears again.</summary>
        public int[] Below { get; private set; } = [];

        public Node Child(byte[] childName)
        {
            var child = _children.Find(c => c.Name.AsSpan().SequenceEqual(childName));
            if (child is null)
            {
                child = new Node(childName);
                _children.Add(child);
            }

            return child;
        }

        public Node Freeze()
        {
            Children = [.. _children.Select(c => c.Freeze())];
            Below = [.. Columns, .. Children.SelectMany(c => c.Below)];
            return this;
        }

        /// <summary>Reader on a PropertyName; ValueTextEquals compares the unescaped name, so "\u0069d" finds id.</summary>
        public Node? Find(ref Utf8JsonReader reader)
        {
            foreach (var child in Children)
            {
                if (reader.ValueTextEquals(child.Name))
                {
                    return child;
                }
            }

            return null;
        }
    }
}
