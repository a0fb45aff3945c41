using SinkConnector.PgBinary;
using YamlDotNet.RepresentationModel;

namespace SinkConnector.Configuration.Loading;

/// <summary>Reads and checks a mapping's upsert keys: <c>newer_by</c>, <c>update_columns</c>, <c>on_null</c>, <c>unavailable_value</c>.</summary>
internal static class UpsertRulesReader
{
    public static readonly string[] Keys = ["newer_by", "update_columns", "on_null", "unavailable_value"];

    public static readonly Dictionary<string, NullAction> NullActions = new()
    {
        ["keep"] = NullAction.Keep,
        ["overwrite"] = NullAction.Overwrite,
    };

    private static readonly Dictionary<string, bool> s_unavailable = new()
    {
        ["keep"] = true,
        ["write"] = false,
    };

    internal sealed record Rules(string? NewerBy, IReadOnlyList<string>? UpdateColumns, NullAction OnNull, bool KeepUnavailableValues);

    public static Rules Read(
        YamlMappingNode root, YamlValueReader reader, WriteMode mode, MessageFormat? format,
        IReadOnlyList<ColumnMapping> columns, HashSet<string> declared, IReadOnlyList<string> key)
    {
        foreach (var name in Keys.Where(k => !YamlValueReader.IsNull(YamlValueReader.Get(root, k))))
        {
            if (mode != WriteMode.Upsert)
            {
                reader.Error(name, "is only allowed with mode: upsert (it decides how a change updates a stored row)");
            }
        }

        foreach (var column in columns.Where(c => c.OnNull is not null))
        {
            var path = $"columns.{column.Name}.on_null";
            if (mode != WriteMode.Upsert)
            {
                reader.Error(path, "is only allowed with mode: upsert (it decides how a change updates a stored row)");
            }
            else if (key.Contains(column.Name))
            {
                reader.Error(path, $"column '{column.Name}' is a key column: it identifies the row and is never updated");
            }
            else if (column.OnNull == NullAction.Keep && (!column.Nullable || column.Default is not null))
            {
                reader.Error(path, $"keep needs a column that can be null, but '{column.Name}' is {(column.Default is not null ? "given a default (a missing value takes it)" : "required (not nullable)")}");
            }
        }

        var newerBy = ReadNewerBy(root, reader, columns, declared, key);
        var update = ReadUpdateColumns(root, reader, declared, key, newerBy);
        var onNull = reader.Choice(root, "", "on_null", NullActions) ?? NullAction.Overwrite;
        var unavailable = reader.Choice(root, "", "unavailable_value", s_unavailable);
        if (unavailable is not null && format is not (null or MessageFormat.Debezium))
        {
            reader.Error("unavailable_value", $"{UpsertRules.UnavailablePlaceholder} is Debezium's placeholder: this key needs format: debezium");
        }

        return new Rules(newerBy, update, onNull, mode == WriteMode.Upsert && format == MessageFormat.Debezium && (unavailable ?? true));
    }

    private static string? ReadNewerBy(
        YamlMappingNode root, YamlValueReader reader, IReadOnlyList<ColumnMapping> columns, HashSet<string> declared, IReadOnlyList<string> key)
    {
        if (reader.String(root, "", "newer_by") is not { } name)
        {
            return null;
        }

        var column = columns.FirstOrDefault(c => c.Name == name);
        if (!declared.Contains(name))
        {
            reader.Error("newer_by", $"column '{name}' is not declared in columns");
        }
        else if (column is null)
        {
            // Declared but invalid: its own error says why.
        }
        else if (key.Contains(name))
        {
            reader.Error("newer_by", $"column '{name}' is a key column; a version must change from one change of a row to the next");
        }
        else if (column.Type.IsArray || !UpsertRules.OrderableTypes.Contains(column.Type.Scalar))
        {
            reader.Error("newer_by", $"column '{name}' has type {column.Type}, which does not order versions; use an integer, numeric, date, timestamp or timestamptz column");
        }
        else if (column.Nullable)
        {
            reader.Error("newer_by", $"column '{name}' is nullable; a version must be in every change, so the column must be required (remove nullable: true)");
        }
        else
        {
            return name;
        }

        return null;
    }

    private static List<string>? ReadUpdateColumns(
        YamlMappingNode root, YamlValueReader reader, HashSet<string> declared, IReadOnlyList<string> key, string? newerBy)
    {
        if (reader.StringList(root, "", "update_columns") is not { } listed)
        {
            return null;
        }

        var update = new List<string>();
        foreach (var (column, path) in listed)
        {
            if (!declared.Contains(column))
            {
                reader.Error(path, $"column '{column}' is not declared in columns");
            }
            else if (key.Contains(column))
            {
                reader.Error(path, $"column '{column}' is a key column: it identifies the row and is never updated");
            }
            else if (update.Contains(column))
            {
                reader.Error(path, $"column '{column}' is listed twice");
            }
            else
            {
                update.Add(column);
            }
        }

        if (newerBy is not null && !update.Contains(newerBy) && !listed.Any(l => l.Value == newerBy))
        {
            reader.Error("update_columns", $"must include the newer_by column '{newerBy}', or a stored row would keep its old version and accept older changes");
        }

        return update;
    }
}
