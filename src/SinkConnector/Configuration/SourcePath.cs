namespace SinkConnector.Configuration;

public enum SourceKind
{
    /// <summary>The message value (or, for debezium, the row image; for connect-json, the payload).</summary>
    Value,
    Key,
    Header,
    Topic,
    Partition,
    Offset,
    Timestamp,

    /// <summary>The Debezium envelope's <c>source</c> block.</summary>
    Source,

    /// <summary>A quoted constant (<c>'web'</c>): <see cref="SourcePath.Literal"/>, converted like a default.</summary>
    Constant,

    /// <summary><c>now()</c>: the time of the batch's transaction, one value for every row of a batch.</summary>
    Now,

    /// <summary><c>concat(a, 'b', ...)</c>: the text of <see cref="SourcePath.Parts"/> joined.</summary>
    Concat,
}

/// <summary>One step of a dot path: a property name or an array index (<c>[n]</c>).</summary>
public readonly record struct PathSegment(string? Property, int Index)
{
    public bool IsIndex => Property is null;

    public override string ToString() => IsIndex ? $"[{Index}]" : Property!;
}

/// <summary>
/// A parsed <c>from:</c> expression: <c>value</c>, <c>value.a.b[0]</c>, <c>key</c>, <c>key.id</c>,
/// <c>header.trace-id</c>, <c>topic</c>, <c>partition</c>, <c>offset</c>, <c>timestamp</c>, <c>source.ts_ms</c>.
/// </summary>
public sealed record SourcePath(SourceKind Kind, IReadOnlyList<PathSegment> Segments, string? HeaderName, string Text)
{
    /// <summary>The text of a <see cref="SourceKind.Constant"/>, quotes removed.</summary>
    public string? Literal { get; init; }

    /// <summary>The arguments of a <see cref="SourceKind.Concat"/>: source paths and constants.</summary>
    public IReadOnlyList<SourcePath> Parts { get; init; } = [];

    /// <summary>Whether the value is computed by the sink rather than read from the message (see <see cref="SourceExpression"/>).</summary>
    public bool IsComputed => Kind is SourceKind.Constant or SourceKind.Now or SourceKind.Concat;

    public override string ToString() => Text;

    public static bool TryParse(string text, out SourcePath? path, out string? error)
    {
        path = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty";
            return false;
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var head = dot < 0 ? text : text[..dot];
        var rest = dot < 0 ? null : text[(dot + 1)..];
        SourceKind kind;
        switch (head)
        {
            case "value": kind = SourceKind.Value; break;
            case "key": kind = SourceKind.Key; break;
            case "source": kind = SourceKind.Source; break;
            case "header":
                if (string.IsNullOrEmpty(rest))
                {
                    error = "'header' needs a header name: header.<name>";
                    return false;
                }

                // Header names may contain dots and dashes: everything after "header." is the name.
                path = new SourcePath(SourceKind.Header, [], rest, text);
                return true;
            case "topic" or "partition" or "offset" or "timestamp" when rest is null:
                path = new SourcePath(Enum.Parse<SourceKind>(head, ignoreCase: true), [], null, text);
                return true;
            default:
                error = $"unknown source '{head}' (expected value, key, header.<name>, topic, partition, offset, timestamp or source.<field>)";
                return false;
        }

        if (rest is null)
        {
            if (kind == SourceKind.Source)
            {
                error = "'source' needs a field: source.<field>";
                return false;
            }

            path = new SourcePath(kind, [], null, text);
            return true;
        }

        if (!TryParseSegments(rest, out var segments, out error))
        {
            error = $"bad path '{text}': {error}";
            return false;
        }

        path = new SourcePath(kind, segments, null, text);
        return true;
    }

    private static bool TryParseSegments(string rest, out List<PathSegment> segments, out string? error)
    {
        segments = [];
        error = null;
        foreach (var part in rest.Split('.'))
        {
            var name = part;
            var bracket = name.IndexOf('[', StringComparison.Ordinal);
            var property = bracket < 0 ? name : name[..bracket];
            if (property.Length == 0 && (bracket != 0 || segments.Count == 0 && bracket < 0))
            {
                error = "empty path segment";
                return false;
            }

            if (property.Length > 0)
            {
                segments.Add(new PathSegment(property, 0));
            }

            while (bracket >= 0)
            {
                var close = name.IndexOf(']', bracket);
                if (close < 0 || !int.TryParse(name.AsSpan(bracket + 1, close - bracket - 1), out var index) || index < 0)
                {
                    error = "array index must be [n] with n >= 0";
                    return false;
                }

                segments.Add(new PathSegment(null, index));
                name = name[(close + 1)..];
                bracket = name.Length == 0 ? -1 : name[0] == '[' ? 0 : -2;
                if (bracket == -2)
                {
                    error = "unexpected text after ']'";
                    return false;
                }
            }
        }

        return true;
    }
}
