using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SinkConnector.Configuration.Loading;

/// <summary>
/// Reads typed values out of one file's YAML nodes. Every problem is added to the shared error list and the
/// method returns null, so that callers can keep going and report everything in one pass.
/// A missing key and an explicit YAML null are treated alike: "not set".
/// </summary>
internal sealed partial class YamlValueReader(string file, Func<string, string?> environment, List<ConfigError> errors)
{
    // Values that came from the environment, as written in the file (${NAME}) and as expanded.
    private readonly List<(string Written, string Expanded)> _interpolated = [];
    private readonly List<(string Name, string Value)> _variables = [];

    public string File => file;

    public int ErrorCount => errors.Count;

    [GeneratedRegex("^[+-]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    /// <summary>Reports a problem; a value that came from the environment is never echoed, its variable is named instead.</summary>
    public void Error(string key, string reason) => errors.Add(new ConfigError(file, key, Redact(reason)));

    /// <summary>
    /// Replaces every value expanded from <c>${...}</c> in <paramref name="reason"/> by what the file wrote: an
    /// environment variable often holds a secret (a connection string with its password).
    /// </summary>
    private string Redact(string reason)
    {
        if (_variables.Count == 0)
        {
            return reason;
        }

        var redacted = reason;
        foreach (var (written, expanded) in _interpolated.OrderByDescending(i => i.Expanded.Length))
        {
            // Quoted first: a short value (a port, "0") must not be replaced inside ordinary words.
            redacted = redacted.Replace($"'{expanded}'", $"'{written}'", StringComparison.Ordinal)
                .Replace($"\"{expanded}\"", $"\"{written}\"", StringComparison.Ordinal);
        }

        // A library message may quote the value in part or without quotes; values this short are not secrets.
        foreach (var (name, value) in _variables.OrderByDescending(v => v.Value.Length).Where(v => v.Value.Length >= MinRedactedLength))
        {
            redacted = redacted.Replace(value, $"${{{name}}}", StringComparison.Ordinal);
        }

        return redacted == reason ? reason : $"{redacted} (values from environment variables are not shown)";
    }

    // Shorter variable values are replaced only where a message quotes the whole value.
    private const int MinRedactedLength = 4;

    public static bool IsNull(YamlNode? node) =>
        node is null or YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    public static YamlNode? Get(YamlMappingNode map, string key)
    {
        foreach (var (k, value) in map.Children)
        {
            if (k is YamlScalarNode { Value: var name } && name == key)
            {
                return value;
            }
        }

        return null;
    }

    public void RejectUnknownKeys(YamlMappingNode map, string path, params string[] known)
    {
        foreach (var key in map.Children.Keys)
        {
            if (key is not YamlScalarNode { Value: { } name } || Array.IndexOf(known, name) < 0)
            {
                Error(YamlPath.Child(path, YamlPath.KeyText(key)), $"unknown key (expected one of: {string.Join(", ", known)})");
            }
        }
    }

    /// <summary>The entries of a mapping whose keys are user-chosen names (columns, Kafka properties).</summary>
    public IEnumerable<(string Key, string Path, YamlNode Value)> Entries(YamlMappingNode map, string path)
    {
        foreach (var (key, value) in map.Children)
        {
            var keyPath = YamlPath.Child(path, YamlPath.KeyText(key));
            if (key is YamlScalarNode { Value: { } name })
            {
                yield return (name, keyPath, value);
            }
            else
            {
                Error(keyPath, $"a key must be a scalar, not {YamlPath.Kind(key)}");
            }
        }
    }

    public YamlMappingNode? Mapping(YamlNode? node, string path) => As<YamlMappingNode>(node, path, "a mapping");

    public YamlMappingNode? Mapping(YamlMappingNode parent, string parentPath, string key) =>
        Mapping(Get(parent, key), YamlPath.Child(parentPath, key));

    public YamlSequenceNode? Sequence(YamlNode? node, string path) => As<YamlSequenceNode>(node, path, "a list");

    /// <summary>The scalar's text with <c>${NAME}</c> references expanded.</summary>
    public string? Scalar(YamlNode? node, string path)
    {
        if (As<YamlScalarNode>(node, path, "a single value") is not { } scalar)
        {
            return null;
        }

        var problems = new List<string>();
        var substitutions = new List<(string Name, string Value)>();
        var written = scalar.Value ?? "";
        var text = EnvironmentInterpolation.Expand(written, environment, problems, substitutions);
        if (substitutions.Count > 0)
        {
            _variables.AddRange(substitutions);
            if (text is not null)
            {
                _interpolated.Add((written, text));
            }
        }

        foreach (var problem in problems)
        {
            Error(path, problem);
        }

        return text;
    }

    public string? String(YamlMappingNode map, string parentPath, string key, bool required = false)
    {
        var path = YamlPath.Child(parentPath, key);
        var node = Get(map, key);
        if (IsNull(node))
        {
            if (required)
            {
                Error(path, "is required");
            }

            return null;
        }

        var text = Scalar(node, path);
        if (text is { Length: 0 })
        {
            Error(path, "must not be empty");
            return null;
        }

        return text;
    }

    public bool? Bool(YamlMappingNode map, string parentPath, string key) =>
        Convert<bool>(map, parentPath, key, text => bool.TryParse(text, out var b) ? b : null, "expected true or false");

    public int? Int(YamlMappingNode map, string parentPath, string key, int min)
    {
        var value = Convert<int>(
            map,
            parentPath,
            key,
            text => IntegerPattern().IsMatch(text) && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) ? i : null,
            "expected an integer");
        return CheckMinimum(value, min, parentPath, key);
    }

    public TimeSpan? Duration(YamlMappingNode map, string parentPath, string key)
    {
        var value = Convert<TimeSpan>(
            map,
            parentPath,
            key,
            text => ConfigValues.TryParseDuration(text, out var d) ? d : null,
            "expected a duration such as 200ms, 30s, 5m, 1h or 1.5s");
        return CheckPositive(value, parentPath, key);
    }

    public long? Size(YamlMappingNode map, string parentPath, string key)
    {
        var value = Convert<long>(
            map,
            parentPath,
            key,
            text => ConfigValues.TryParseSize(text, out var s) ? s : null,
            "expected a size such as 1000000, 10MB (1000-based) or 16MiB (1024-based)");
        return CheckMinimum(value, 1, parentPath, key);
    }

    /// <summary>One of a fixed set of words, matched case-insensitively.</summary>
    public T? Choice<T>(YamlMappingNode map, string parentPath, string key, IReadOnlyDictionary<string, T> choices)
        where T : struct =>
        Convert<T>(
            map,
            parentPath,
            key,
            text => choices.Where(choice => string.Equals(choice.Key, text, StringComparison.OrdinalIgnoreCase)).Select(choice => (T?)choice.Value).FirstOrDefault(),
            $"expected one of: {string.Join(", ", choices.Keys)}");

    /// <summary>A list of non-empty strings, each with its path (<c>key[0]</c>) for later messages; null if not set.</summary>
    public List<(string Value, string Path)>? StringList(YamlMappingNode map, string parentPath, string key)
    {
        var path = YamlPath.Child(parentPath, key);
        if (Sequence(Get(map, key), path) is not { } sequence)
        {
            return null;
        }

        var items = new List<(string, string)>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var itemPath = YamlPath.Item(path, i);
            var node = sequence.Children[i];
            if (IsNull(node))
            {
                Error(itemPath, "must not be empty");
            }
            else if (Scalar(node, itemPath) is { } text)
            {
                if (text.Length == 0)
                {
                    Error(itemPath, "must not be empty");
                }
                else
                {
                    items.Add((text, itemPath));
                }
            }
        }

        return items;
    }

    private T? As<T>(YamlNode? node, string path, string expected)
        where T : YamlNode
    {
        if (IsNull(node))
        {
            return null;
        }

        if (node is T typed)
        {
            return typed;
        }

        Error(path, $"expected {expected}, not {YamlPath.Kind(node!)}");
        return null;
    }

    private T? Convert<T>(YamlMappingNode map, string parentPath, string key, Func<string, T?> parse, string expected)
        where T : struct
    {
        var path = YamlPath.Child(parentPath, key);
        var node = Get(map, key);
        if (IsNull(node) || Scalar(node, path) is not { } text)
        {
            return null;
        }

        var value = parse(text.Trim());
        if (value is null)
        {
            Error(path, $"'{text}': {expected}");
        }

        return value;
    }

    private int? CheckMinimum(int? value, int min, string parentPath, string key)
    {
        if (value < min)
        {
            Error(YamlPath.Child(parentPath, key), $"must be at least {min}");
            return null;
        }

        return value;
    }

    private long? CheckMinimum(long? value, long min, string parentPath, string key)
    {
        if (value < min)
        {
            Error(YamlPath.Child(parentPath, key), $"must be at least {min}");
            return null;
        }

        return value;
    }

    private TimeSpan? CheckPositive(TimeSpan? value, string parentPath, string key)
    {
        if (value <= TimeSpan.Zero)
        {
            Error(YamlPath.Child(parentPath, key), "must be greater than zero");
            return null;
        }

        if (value > ConfigLimits.MaxDuration)
        {
            Error(YamlPath.Child(parentPath, key), $"must be at most {ConfigLimits.MaxDuration.TotalHours:0}h");
            return null;
        }

        return value;
    }
}
