using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace SinkConnector.Configuration;

/// <summary>
/// A <c>table:</c> whose name holds placeholders (<c>{topic}</c>, <c>{1}</c>, <c>{name}</c>) of a
/// <c>topics_regex</c> mapping: each matching topic gets its own table in the template's schema. The rendered name is
/// sanitised (<see cref="Sanitise"/>) so any topic yields a valid identifier, and like every name it is quoted in SQL.
/// </summary>
public sealed partial class TableTemplate
{
    private readonly List<(string Literal, string? Placeholder)> _parts;

    private TableTemplate(string text, string schema, List<(string Literal, string? Placeholder)> parts)
    {
        Text = text;
        Schema = schema;
        _parts = parts;
    }

    /// <summary>The template as written, e.g. <c>analytics.events_{1}</c>.</summary>
    public string Text { get; }

    /// <summary>The schema every rendered table is in (the schema part takes no placeholders).</summary>
    public string Schema { get; }

    public override string ToString() => Text;

    [GeneratedRegex("\\{([^{}]*)\\}")]
    private static partial Regex PlaceholderPattern();

    /// <summary>Whether a <c>table:</c> value is a template rather than a table name.</summary>
    public static bool IsTemplate(string text) => text.Contains('{', StringComparison.Ordinal) || text.Contains('}', StringComparison.Ordinal);

    /// <summary>Parses a template against the groups <paramref name="pattern"/> has; the error names what is wrong.</summary>
    public static bool TryParse(string text, TopicPattern pattern, out TableTemplate? template, out string? error)
    {
        template = null;
        var dot = text.LastIndexOf('.', text.IndexOf('{', StringComparison.Ordinal) is var brace and >= 0 ? brace : text.Length - 1);
        var (schemaText, nameText) = dot < 0 ? ("public", text) : (text[..dot], text[(dot + 1)..]);
        if (IsTemplate(schemaText) || nameText.Contains('.', StringComparison.Ordinal) || nameText.Contains('"', StringComparison.Ordinal))
        {
            error = $"'{text}': only the table name may hold placeholders, unquoted and without dots (e.g. analytics.events_{{topic}})";
            return false;
        }

        if (!PostgresIdentifiers.TryParseTableName(schemaText + ".x", out var schemaOnly, out error))
        {
            return false;
        }

        var parts = new List<(string, string?)>();
        var at = 0;
        foreach (Match placeholder in PlaceholderPattern().Matches(nameText))
        {
            var name = placeholder.Groups[1].Value;
            if (name != "topic" && pattern.Regex.GroupNumberFromName(name) < 0 || name == "0")
            {
                error = $"'{text}': {{{name}}} is neither {{topic}} nor a group of topics_regex '{pattern.Text}' (groups: {Groups(pattern)})";
                return false;
            }

            parts.Add((nameText[at..placeholder.Index], name));
            at = placeholder.Index + placeholder.Length;
        }

        parts.Add((nameText[at..], null));
        if (parts.Any(p => IsTemplate(p.Item1)))
        {
            error = $"'{text}' has an unmatched '{{' or '}}'";
            return false;
        }

        template = new TableTemplate(text, schemaOnly!.Schema, parts);
        return true;
    }

    private static string Groups(TopicPattern pattern)
    {
        var names = pattern.Regex.GetGroupNames().Where(n => n != "0").Select(n => $"{{{n}}}").ToList();
        return names.Count == 0 ? "none" : string.Join(", ", names);
    }

    /// <summary>The table of <paramref name="topic"/>, which <paramref name="match"/> (the pattern's match of it) splits into groups.</summary>
    public TableName Render(string topic, Match match)
    {
        var name = new StringBuilder();
        foreach (var (literal, placeholder) in _parts)
        {
            name.Append(literal);
            if (placeholder is not null)
            {
                name.Append(placeholder == "topic" ? topic : match.Groups[placeholder].Value);
            }
        }

        return new TableName(Schema, Sanitise(name.ToString()));
    }

    /// <summary>
    /// A topic-derived name as a table name: lower case ASCII letters, digits and <c>_</c>; every other character
    /// (Kafka allows <c>.</c> and <c>-</c>) becomes <c>_</c>, an empty name <c>_</c>. Over 63 bytes, Postgres would
    /// truncate it silently, so two long topics could share a table: it is cut to 54 characters plus <c>_</c> and 8
    /// hex digits of the SHA-256 of the whole sanitised name.
    /// </summary>
    public static string Sanitise(string name)
    {
        var clean = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            clean.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_');
        }

        var text = clean.Length == 0 ? "_" : clean.ToString();
        if (text.Length <= PostgresIdentifiers.MaxIdentifierBytes)
        {
            return text;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..8];
        return $"{text[..54]}_{hash}";
    }
}
