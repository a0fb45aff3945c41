using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.Writing;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Writing;

/// <summary>Which changes of a batch survive the fold, and the SQL that applies them (the results in Postgres: UpsertRulesTests).</summary>
public class UpsertFoldTests
{
    private static readonly MappingConfig s_versioned = MappingOf(
        Column("id", "value.id", "bigint"),
        Column("version", "value.version", "bigint"),
        Column("status", "value.status", "text", nullable: true)) with
    {
        Mode = WriteMode.Upsert,
        Key = ["id"],
        NewerBy = "version",
    };

    private static RowChange Write(MappingConfig mapping, long id, long version, string? status, bool keepStatus = false) =>
        new(mapping, ChangeKind.Write, [id, version, status], Message("{}")) { Kept = keepStatus ? [false, false, true] : null };

    private static RowChange Delete(MappingConfig mapping, long id, long? version) => new(mapping, ChangeKind.Delete, [id, version, null], Message(null));

    private static List<UpsertLayer> Fold(MappingConfig mapping, params RowChange[] changes) =>
        new UpsertFold(mapping, UpsertRules.Of(mapping)).Fold(changes);

    private static string Show(RowChange c) => $"{c.Kind} {c.Values[0]} v{c.Values[1]}";

    [Fact]
    public void Within_a_batch_the_newest_version_wins_not_the_last_offset()
    {
        var layer = Assert.Single(Fold(s_versioned, Write(s_versioned, 1, 5, "b"), Write(s_versioned, 1, 7, "c"), Write(s_versioned, 1, 6, "stale"), Write(s_versioned, 1, 7, "same version")));

        Assert.Empty(layer.Deletes);
        Assert.Equal("c", Assert.Single(layer.Writes).Values[2]);
    }

    [Fact]
    public void A_delete_older_than_the_write_before_it_is_dropped_and_a_newer_one_drops_the_write()
    {
        var stale = Assert.Single(Fold(s_versioned, Write(s_versioned, 1, 5, "a"), Delete(s_versioned, 1, 4)));
        var fresh = Assert.Single(Fold(s_versioned, Write(s_versioned, 2, 5, "a"), Delete(s_versioned, 2, 5)));
        var unversioned = Assert.Single(Fold(s_versioned, Write(s_versioned, 3, 5, "a"), Delete(s_versioned, 3, null)));

        Assert.Equal(["Write 1 v5"], stale.Writes.Select(Show));
        Assert.Empty(stale.Deletes);
        Assert.Equal(["Delete 2 v5"], fresh.Deletes.Select(Show));
        Assert.Empty(fresh.Writes);
        Assert.Equal(["Delete 3 v"], unversioned.Deletes.Select(Show));
    }

    [Fact]
    public void A_write_after_a_delete_keeps_both_in_one_layer_and_of_two_deletes_the_greater_version_stays()
    {
        var layer = Assert.Single(Fold(s_versioned, Delete(s_versioned, 1, 8), Delete(s_versioned, 1, 3), Write(s_versioned, 1, 4, "back")));

        Assert.Equal(["Delete 1 v8"], layer.Deletes.Select(Show));
        Assert.Equal(["Write 1 v4"], layer.Writes.Select(Show));
    }

    [Fact]
    public void A_newer_write_keeping_a_column_an_older_write_sets_goes_to_a_second_layer()
    {
        var partial = s_versioned with { KeepUnavailableValues = true };

        var layers = Fold(partial, Write(partial, 1, 5, "set"), Write(partial, 1, 6, null, keepStatus: true), Write(partial, 2, 1, "x"));

        Assert.Equal(2, layers.Count);
        Assert.Equal(["Write 1 v5", "Write 2 v1"], layers[0].Writes.Select(Show));
        Assert.Equal(["Write 1 v6"], layers[1].Writes.Select(Show));
    }

    [Fact]
    public void Without_newer_by_partial_writes_of_a_key_merge_into_one_tuple()
    {
        var keep = MappingOf(Column("id", "value.id", "bigint"), Column("status", "value.status", "text", nullable: true)) with
        {
            Mode = WriteMode.Upsert,
            Key = ["id"],
            OnNull = NullAction.Keep,
        };

        var write = Assert.Single(Assert.Single(Fold(keep,
            new RowChange(keep, ChangeKind.Write, [1L, "set"], Message("{}")), new RowChange(keep, ChangeKind.Write, [1L, null], Message("{}")))).Writes);

        // The merged tuple: 2 fields, bigint 1, then the older write's "set" (the newer one's null keeps it).
        Assert.Equal([0, 2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, (byte)'s', (byte)'e', (byte)'t'], write.Merged);
    }

    [Fact]
    public void Merge_sql_orders_by_version_keeps_on_null_columns_and_skips_kept_ones()
    {
        var mapping = s_versioned with { OnNull = NullAction.Keep };

        Assert.Equal(
            "INSERT INTO \"public\".\"orders\" AS t (\"id\", \"version\", \"status\") SELECT \"id\", \"version\", \"status\" FROM s " +
            "ON CONFLICT (\"id\") DO UPDATE SET \"version\" = EXCLUDED.\"version\", \"status\" = COALESCE(EXCLUDED.\"status\", t.\"status\") " +
            "WHERE t.\"version\" IS NULL OR t.\"version\" < EXCLUDED.\"version\"",
            UpsertWriter.MergeSql(mapping, "s", UpsertRules.Of(mapping), ""));
        Assert.Contains("DO UPDATE SET \"version\" = EXCLUDED.\"version\" WHERE", UpsertWriter.MergeSql(mapping, "s", UpsertRules.Of(mapping), "2"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_versioned_delete_removes_only_rows_no_newer_than_itself()
    {
        Assert.EndsWith(
            "WHERE t.\"id\" = d.\"id\" AND (d.\"version\" IS NULL OR t.\"version\" IS NULL OR t.\"version\" <= d.\"version\")",
            UpsertWriter.DeleteSql(s_versioned, s_versioned.KeyIndexes(), "d0", UpsertRules.Of(s_versioned)),
            StringComparison.Ordinal);
    }
}
