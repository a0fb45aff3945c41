using System.Text;
using System.Text.RegularExpressions;

namespace SinkConnector.Configuration;

/// <summary>Rules for the Postgres names in the configuration: schemas, tables, columns.</summary>
public static partial class PostgresIdentifiers
{
    /// <summary>Postgres truncates longer identifiers silently (NAMEDATALEN - 1), which would make two names collide.</summary>
    public const int MaxIdentifierBytes = 63;

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex PlainIdentifierPattern();

    /// <summary>An identifier that is safe to use unquoted and unchanged: <c>[A-Za-z_][A-Za-z0-9_]*</c>, at most 63 characters.</summary>
    public static bool IsPlainIdentifier(string text) =>
        text.Length <= MaxIdentifierBytes && PlainIdentifierPattern().IsMatch(text);

    /// <summary>
    /// Checks a name that is always quoted in SQL (column, table, schema): anything goes except NUL,
    /// which Postgres cannot store, and a length Postgres would truncate.
    /// </summary>
    public static bool TryValidateQuotedIdentifier(string name, out string? error)
    {
        error = name.Length == 0 ? "is empty"
            : name.Contains('\0', StringComparison.Ordinal) ? "contains a NUL character"
            : Encoding.UTF8.GetByteCount(name) > MaxIdentifierBytes ? $"'{name}' is longer than {MaxIdentifierBytes} bytes"
            : null;
        return error is null;
    }

    /// <summary>
    /// Parses <c>schema.table</c> or <c>table</c> (schema <c>public</c>). Either part may be double-quoted to contain
    /// dots (<c>""</c> inside quotes is a literal quote). Names keep their case: they are always quoted in SQL.
    /// </summary>
    public static bool TryParseTableName(string text, out TableName? table, out string? error)
    {
        table = null;
        var parts = new List<string>();
        var i = 0;
        while (true)
        {
            if (!TryReadNamePart(text, ref i, out var part, out error))
            {
                return false;
            }

            parts.Add(part);
            if (i == text.Length)
            {
                break;
            }

            i++; // the '.' separator
        }

        if (parts.Count > 2)
        {
            error = $"'{text}' has {parts.Count} parts; expected schema.table or table (quote names that contain dots)";
            return false;
        }

        var (schema, name) = parts.Count == 2 ? (parts[0], parts[1]) : ("public", parts[0]);
        if (!TryValidateQuotedIdentifier(schema, out error))
        {
            error = $"schema name {error}";
            return false;
        }

        if (!TryValidateQuotedIdentifier(name, out error))
        {
            error = $"table name {error}";
            return false;
        }

        table = new TableName(schema, name);
        return true;
    }

    private static bool TryReadNamePart(string text, ref int i, out string part, out string? error)
    {
        part = "";
        error = null;
        if (i < text.Length && text[i] == '"')
        {
            var builder = new StringBuilder();
            i++;
            while (true)
            {
                if (i >= text.Length)
                {
                    error = $"'{text}': unterminated quoted name";
                    return false;
                }

                if (text[i] == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        builder.Append('"');
                        i += 2;
                        continue;
                    }

                    i++;
                    break;
                }

                builder.Append(text[i++]);
            }

            part = builder.ToString();
            if (i < text.Length && text[i] != '.')
            {
                error = $"'{text}': expected '.' after a quoted name";
                return false;
            }

            return true;
        }

        var end = text.IndexOf('.', i);
        end = end < 0 ? text.Length : end;
        part = text[i..end];
        i = end;
        if (part.Contains('"', StringComparison.Ordinal))
        {
            error = $"'{text}': a quote may only surround a whole name";
            return false;
        }

        return true;
    }
}
