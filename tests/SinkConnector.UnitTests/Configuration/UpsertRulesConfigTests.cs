using SinkConnector.Configuration;
using static SinkConnector.UnitTests.Configuration.ConfigAssert;

namespace SinkConnector.UnitTests.Configuration;

/// <summary>The upsert keys of a mapping: newer_by, update_columns, on_null, unavailable_value.</summary>
public sealed class UpsertRulesConfigTests : IDisposable
{
    private readonly TempConfigDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string File => _dir.MappingFile("orders.yaml");

    private static string Upsert(string rules, string format = "json", string mode = "upsert") => $"""
        topic: orders
        table: public.orders
        format: {format}
        mode: {mode}
        key: [id]
        {rules}
        columns:
          id: {"{"} from: value.id, type: bigint {"}"}
          version: {"{"} from: value.version, type: bigint {"}"}
          status: {"{"} from: value.status, type: text, nullable: true {"}"}
          note: {"{"} from: value.note, type: text, nullable: true {"}"}
          payload: {"{"} from: value.payload, type: jsonb, nullable: true {"}"}
          amount: {"{"} from: value.amount, type: "numeric(12,2)", default: "0" {"}"}
        """;

    private MappingConfig Load(string yaml)
    {
        _dir.Write("mappings/orders.yaml", yaml);
        return Assert.Single(_dir.Load().Mappings);
    }

    private ConfigException Fails(string yaml)
    {
        _dir.Write("mappings/orders.yaml", yaml);
        return _dir.LoadFails();
    }

    [Fact]
    public void Without_the_keys_an_upsert_uses_none_of_the_rules()
    {
        var mapping = Load(Upsert(""));

        Assert.Null(mapping.NewerBy);
        Assert.Null(mapping.UpdateColumns);
        Assert.Equal(NullAction.Overwrite, mapping.OnNull);
        Assert.False(mapping.KeepUnavailableValues);
        Assert.True(UpsertRules.Of(mapping).None);
    }

    [Fact]
    public void All_keys_are_read_and_resolved_to_column_positions()
    {
        var mapping = Load(Upsert("""
            newer_by: version
            update_columns: [version, status, note]
            on_null: keep
            """).Replace("note: { from: value.note, type: text, nullable: true }", "note: { from: value.note, type: text, nullable: true, on_null: overwrite }", StringComparison.Ordinal));

        Assert.Equal("version", mapping.NewerBy);
        Assert.Equal(["version", "status", "note"], mapping.UpdateColumns);
        Assert.Equal(NullAction.Keep, mapping.OnNull);
        Assert.Equal(NullAction.Overwrite, mapping.Columns[3].OnNull);
        var rules = UpsertRules.Of(mapping);
        Assert.Equal(1, rules.NewerBy);
        Assert.Equal([false, true, true, true, false, false], rules.Updated);
        // Only nullable columns without a default can be null; note overrides the mapping-wide keep.
        Assert.Equal([false, false, true, false, true, false], rules.KeepOnNull);
    }

    [Fact]
    public void Debezium_upserts_keep_stored_values_for_unavailable_placeholders_unless_told_to_write_them()
    {
        Assert.True(Load(Upsert("", format: "debezium")).KeepUnavailableValues);
        Assert.False(Load(Upsert("unavailable_value: write", format: "debezium")).KeepUnavailableValues);
        Assert.False(Load(Upsert("", format: "debezium", mode: "insert").Replace("key: [id]", "", StringComparison.Ordinal)).KeepUnavailableValues);
    }

    [Fact]
    public void Newer_by_naming_a_missing_column_is_refused()
    {
        HasOnlyError(Fails(Upsert("newer_by: updated_at")), File, "newer_by", "column 'updated_at' is not declared in columns");
    }

    [Fact]
    public void Newer_by_on_a_type_that_does_not_order_versions_is_refused()
    {
        HasOnlyError(Fails(Upsert("newer_by: payload")), File, "newer_by", "column 'payload' has type jsonb, which does not order versions");
        HasOnlyError(Fails(Upsert("newer_by: status")), File, "newer_by", "has type text, which does not order versions");
    }

    [Fact]
    public void Newer_by_on_a_nullable_or_key_column_is_refused()
    {
        HasOnlyError(Fails(Upsert("newer_by: version").Replace("version: { from: value.version, type: bigint }", "version: { from: value.version, type: bigint, nullable: true }", StringComparison.Ordinal)),
            File, "newer_by", "column 'version' is nullable");
        HasOnlyError(Fails(Upsert("newer_by: id")), File, "newer_by", "column 'id' is a key column");
    }

    [Fact]
    public void Update_columns_naming_a_key_column_a_missing_one_or_one_twice_are_refused()
    {
        var e = Fails(Upsert("update_columns: [id, nope, status, status]"));

        HasError(e, File, "update_columns[0]", "column 'id' is a key column: it identifies the row and is never updated");
        HasError(e, File, "update_columns[1]", "column 'nope' is not declared in columns");
        HasError(e, File, "update_columns[3]", "column 'status' is listed twice");
        Assert.Equal(3, e.Errors.Count);
    }

    [Fact]
    public void Update_columns_must_include_the_newer_by_column()
    {
        HasOnlyError(Fails(Upsert("newer_by: version\nupdate_columns: [status]")), File, "update_columns", "must include the newer_by column 'version'");
    }

    [Fact]
    public void An_empty_update_columns_list_inserts_new_keys_and_never_updates()
    {
        var mapping = Load(Upsert("update_columns: []"));

        Assert.All(UpsertRules.Of(mapping).Updated, Assert.False);
    }

    [Fact]
    public void The_upsert_keys_need_mode_upsert()
    {
        var e = Fails(Upsert("newer_by: version\nupdate_columns: [status]\non_null: keep", mode: "insert").Replace("key: [id]", "", StringComparison.Ordinal));

        foreach (var key in new[] { "newer_by", "update_columns", "on_null" })
        {
            HasError(e, File, key, "is only allowed with mode: upsert");
        }
    }

    [Fact]
    public void Column_on_null_keep_needs_a_nullable_non_key_column_without_default()
    {
        var yaml = Upsert("").Replace("default: \"0\"", "default: \"0\", on_null: keep", StringComparison.Ordinal)
            .Replace("version: { from: value.version, type: bigint }", "version: { from: value.version, type: bigint, on_null: keep }", StringComparison.Ordinal)
            .Replace("id: { from: value.id, type: bigint }", "id: { from: value.id, type: bigint, on_null: keep }", StringComparison.Ordinal);

        var e = Fails(yaml);

        HasError(e, File, "columns.id.on_null", "column 'id' is a key column");
        HasError(e, File, "columns.version.on_null", "keep needs a column that can be null, but 'version' is required (not nullable)");
        HasError(e, File, "columns.amount.on_null", "keep needs a column that can be null, but 'amount' is given a default");
        Assert.Equal(3, e.Errors.Count);
    }

    [Fact]
    public void On_null_takes_keep_or_overwrite_only()
    {
        HasOnlyError(Fails(Upsert("on_null: ignore")), File, "on_null", "expected one of: keep, overwrite");
    }

    [Fact]
    public void Unavailable_value_is_for_format_debezium_only()
    {
        HasOnlyError(Fails(Upsert("unavailable_value: keep")), File, "unavailable_value", "needs format: debezium");
    }
}
