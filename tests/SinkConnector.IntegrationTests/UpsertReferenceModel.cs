namespace SinkConnector.IntegrationTests;

/// <summary>One field of a generated change: left out, JSON null, Debezium's unavailable-value placeholder, or text.</summary>
internal readonly record struct Field(FieldKind Kind, string? Text = null)
{
    public static readonly Field Missing = new(FieldKind.Missing);
    public static readonly Field Null = new(FieldKind.Null);
    public static readonly Field Unavailable = new(FieldKind.Unavailable);

    public static Field Of(string text) => new(FieldKind.Text, text);
}

internal enum FieldKind
{
    Missing,
    Null,
    Unavailable,
    Text,
}

/// <summary>A generated change of the upsert property test: a write of every column but the key, or a delete with or without a version.</summary>
internal sealed record Change(long Id, bool IsDelete, long? Version, Field[] Fields);

/// <summary>The rules a mapping of the property test runs under, and so the reference model applies.</summary>
/// <param name="Updated">Per text column: whether an update sets it.</param>
/// <param name="UpdatesVersion">Whether an update sets the version column (always under newer_by).</param>
internal sealed record ModelRules(bool NewerBy, bool UpdatesVersion, bool[] Updated, bool[] KeepOnNull, bool KeepUnavailable);

/// <summary>
/// The upsert rules applied one change at a time, in offset order, to a dictionary: what the table must hold whatever
/// the batches and the in-batch folding. Rows are (version, the text columns).
/// </summary>
internal sealed class UpsertReferenceModel(ModelRules rules)
{
    private readonly SortedDictionary<long, (long Version, string?[] Columns)> _rows = [];

    public void Apply(Change change)
    {
        var stored = _rows.TryGetValue(change.Id, out var row);
        if (change.IsDelete)
        {
            if (stored && (!rules.NewerBy || change.Version is not { } v || row.Version <= v))
            {
                _rows.Remove(change.Id);
            }

            return;
        }

        var version = change.Version!.Value;
        if (!stored)
        {
            _rows[change.Id] = (version, [.. change.Fields.Select(f => Value(f))]);
            return;
        }

        if (rules.NewerBy && row.Version >= version)
        {
            return;
        }

        var columns = (string?[])row.Columns.Clone();
        for (var c = 0; c < columns.Length; c++)
        {
            var field = change.Fields[c];
            var kept = (field.Kind == FieldKind.Unavailable && rules.KeepUnavailable) || (rules.KeepOnNull[c] && Value(field) is null);
            if (rules.Updated[c] && !kept)
            {
                columns[c] = Value(field);
            }
        }

        _rows[change.Id] = (rules.UpdatesVersion ? version : row.Version, columns);
    }

    private string? Value(Field field) => field.Kind switch
    {
        FieldKind.Text => field.Text,
        FieldKind.Unavailable => rules.KeepUnavailable ? null : Placeholder,
        _ => null,
    };

    public const string Placeholder = "__debezium_unavailable_value";

    /// <summary>The expected table, as "id version col1 col2 ..." lines ("∅" for NULL).</summary>
    public List<string> Rows() => [.. _rows.Select(r => Show(r.Key, r.Value.Version, r.Value.Columns))];

    public static string Show(long id, long version, IEnumerable<string?> columns) => $"{id} v{version} " + string.Join(" ", columns.Select(c => c ?? "∅"));
}
