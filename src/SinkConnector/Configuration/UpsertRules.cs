using SinkConnector.PgBinary;

namespace SinkConnector.Configuration;

/// <summary>
/// The upsert keys of a mapping (<c>newer_by</c>, <c>update_columns</c>, <c>on_null</c>, unavailable values) as column
/// positions, decided once per mapping so the write path only looks them up.
/// </summary>
public sealed class UpsertRules
{
    /// <summary>The Debezium default of <c>unavailable.value.placeholder</c>: an unchanged TOASTed value the event does not carry.</summary>
    public const string UnavailablePlaceholder = "__debezium_unavailable_value";

    /// <summary>Column types whose order in Postgres and in .NET agree, so they can order versions.</summary>
    public static readonly IReadOnlySet<ScalarType> OrderableTypes = new HashSet<ScalarType>
    {
        ScalarType.SmallInt, ScalarType.Integer, ScalarType.BigInt, ScalarType.Numeric,
        ScalarType.Date, ScalarType.Timestamp, ScalarType.TimestampTz,
    };

    private UpsertRules(MappingConfig mapping)
    {
        var names = mapping.Columns.Select(c => c.Name).ToList();
        var keys = mapping.KeyIndexes();
        NewerBy = mapping.NewerBy is { } newer ? names.IndexOf(newer) : -1;
        Updated = new bool[names.Count];
        KeepOnNull = new bool[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            var column = mapping.Columns[i];
            if (keys.Contains(i))
            {
                continue;
            }

            Updated[i] = mapping.UpdateColumns?.Contains(column.Name) ?? true;
            // A required column is never null, so keeping its stored value on null does not arise.
            KeepOnNull[i] = (column.OnNull ?? mapping.OnNull) == NullAction.Keep && column.Nullable && column.Default is null;
        }

        KeepsOnNull = KeepOnNull.Any(k => k);
        Partial = KeepsOnNull || mapping.UpdateColumns is not null;
    }

    /// <summary>The <c>newer_by</c> column's position, or -1.</summary>
    public int NewerBy { get; }

    /// <summary>Per column: whether an update sets it (never a key column).</summary>
    public bool[] Updated { get; }

    /// <summary>Per column: whether a null keeps the stored value (<c>on_null: keep</c> on a nullable column).</summary>
    public bool[] KeepOnNull { get; }

    public bool KeepsOnNull { get; }

    /// <summary>
    /// Whether an update may leave some non-key column as stored whatever the change holds (<c>update_columns</c>,
    /// <c>on_null: keep</c>): then changes of one key merge column by column. A change that keeps a column because
    /// of Debezium's placeholder says so itself (<c>RowChange.Kept</c>).
    /// </summary>
    public bool Partial { get; }

    /// <summary>Whether the mapping uses none of the rules (a batch without placeholders): the plain last-change-per-key upsert.</summary>
    public bool None => NewerBy < 0 && !Partial;

    public static UpsertRules Of(MappingConfig mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return new UpsertRules(mapping);
    }

    /// <summary>Whether Debezium's placeholder can arrive in a column of this type (types Postgres TOASTs, as Debezium sends them).</summary>
    public static bool MayBeUnavailable(ColumnType type) =>
        type is { IsArray: false, Scalar: ScalarType.Text or ScalarType.Varchar or ScalarType.Json or ScalarType.Jsonb or ScalarType.Bytea }
             or { IsArray: true, Scalar: ScalarType.Text or ScalarType.Varchar };
}
