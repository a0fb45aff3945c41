using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace SinkConnector.PgBinary;

/// <summary>
/// A Postgres enum type named by a mapping (<c>enum(order_status)</c>, <c>enum(sales.order_status)</c>). Its labels
/// live in the database, not in the mapping: the table check at startup reads them from <c>pg_enum</c>
/// (<see cref="ResolveLabels"/>) so a value outside them becomes a dead letter at conversion, not a failed COPY.
/// Equality is by name only, so mapping types compare equal whether or not they have been checked yet.
/// </summary>
public sealed partial class PgEnumType : IEquatable<PgEnumType>
{
    private FrozenSet<string>? _labels;

    private PgEnumType(string? schema, string name)
    {
        Schema = schema;
        Name = name;
    }

    /// <summary>Null: found through the search_path, as Postgres resolves an unqualified type name.</summary>
    public string? Schema { get; }

    public string Name { get; }

    /// <summary>The name as a value for <c>to_regtype</c>, and as DDL: quoted, so the case is kept exactly as written.</summary>
    public string SqlName => Schema is null ? Quote(Name) : $"{Quote(Schema)}.{Quote(Name)}";

    /// <summary>The labels read from the database; null until the table check has read them.</summary>
    public IReadOnlySet<string>? Labels => Volatile.Read(ref _labels);

    /// <summary>Set once per process by the startup table check, before any message is converted.</summary>
    public void ResolveLabels(IEnumerable<string> labels) => Volatile.Write(ref _labels, labels.ToFrozenSet(StringComparer.Ordinal));

    [GeneratedRegex(@"^\s*enum\s*\(\s*(?:(?<schema>[A-Za-z_][A-Za-z0-9_$]*)\s*\.\s*)?(?<name>[A-Za-z_][A-Za-z0-9_$]*)\s*\)\s*(?<array>\[\])?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex EnumPattern();

    /// <summary>
    /// True for a well-formed <c>enum(name)</c>; false with <paramref name="error"/> set for a malformed one, false
    /// with no error for any other type name.
    /// </summary>
    public static bool TryParseColumnType(string? text, out PgEnumType? type, out bool isArray, out string? error)
    {
        type = null;
        isArray = false;
        error = null;
        text ??= "";
        if (!text.TrimStart().StartsWith("enum", StringComparison.OrdinalIgnoreCase) || text.TrimStart().Length > 4 && char.IsLetterOrDigit(text.TrimStart()[4]))
        {
            return false;
        }

        var match = EnumPattern().Match(text);
        if (!match.Success)
        {
            error = $"'{text}': an enum column type is enum(type_name) or enum(schema.type_name), the name of an existing Postgres enum type (unquoted, as stored)";
            return false;
        }

        type = new PgEnumType(match.Groups["schema"].Success ? match.Groups["schema"].Value : null, match.Groups["name"].Value);
        isArray = match.Groups["array"].Success;
        return true;
    }

    public bool Equals(PgEnumType? other) => other is not null && Schema == other.Schema && Name == other.Name;

    public override bool Equals(object? obj) => Equals(obj as PgEnumType);

    public override int GetHashCode() => HashCode.Combine(Schema, Name);

    public override string ToString() => Schema is null ? Name : $"{Schema}.{Name}";

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
