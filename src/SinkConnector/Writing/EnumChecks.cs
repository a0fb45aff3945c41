using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.PgBinary;

namespace SinkConnector.Writing;

/// <summary>
/// The enum types the mappings name: each must exist and be an enum; its labels are read from pg_enum into the
/// mapping's <see cref="PgEnumType"/>, so conversion can dead-letter a value outside them.
/// </summary>
internal static class EnumChecks
{
    public static async Task<IReadOnlyList<ConfigError>> ResolveAsync(NpgsqlConnection connection, MappingConfig mapping, CancellationToken cancellationToken)
    {
        var errors = new List<ConfigError>();
        foreach (var column in mapping.Columns.Where(c => c.Type.EnumType is not null))
        {
            var enumType = column.Type.EnumType!;
            // to_regtype takes the quoted name as a value: the identifier never becomes part of the SQL text.
            await using var command = new NpgsqlCommand(
                """
                SELECT t.typtype = 'e', array(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
                FROM pg_type t WHERE t.oid = to_regtype(@name)
                """, connection);
            command.Parameters.AddWithValue("name", enumType.SqlName);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var key = $"columns.{column.Name}.type";
            if (!await reader.ReadAsync(cancellationToken))
            {
                errors.Add(new ConfigError(mapping.File, key,
                    $"enum type {enumType} does not exist (CREATE TYPE {enumType.SqlName} AS ENUM (...); names are matched exactly, as stored; " +
                    "auto_create and `sink tables apply` create tables and columns, not enum types)"));
            }
            else if (!reader.GetBoolean(0))
            {
                errors.Add(new ConfigError(mapping.File, key, $"type {enumType} is not an enum type"));
            }
            else
            {
                enumType.ResolveLabels(reader.GetFieldValue<string[]>(1));
            }
        }

        return errors;
    }

    /// <summary>
    /// Whether format_type's spelling of a column type (schema-qualified only off the search_path, quoted only where
    /// needed) names the enum.
    /// </summary>
    public static bool SameName(PgEnumType enumType, string databaseType)
    {
        var parts = SplitQualified(databaseType);
        return parts.Count switch
        {
            1 => parts[0] == enumType.Name,
            2 => parts[1] == enumType.Name && (enumType.Schema is null || enumType.Schema == parts[0]),
            _ => false,
        };
    }

    private static List<string> SplitQualified(string name)
    {
        var parts = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c == '"' && quoted && i + 1 < name.Length && name[i + 1] == '"')
            {
                current.Append('"');
                i++;
            }
            else if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == '.' && !quoted)
            {
                parts.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        parts.Add(current.ToString());
        return parts;
    }
}
