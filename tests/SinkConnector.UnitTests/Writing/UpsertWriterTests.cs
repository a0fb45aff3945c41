using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.Writing;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Writing;

public class UpsertWriterTests
{
    private static readonly MappingConfig s_mapping = MappingOf(
        Column("tenant", "value.tenant", "text"),
        Column("id", "value.id", "numeric(10,2)"),
        Column("status", "value.status", "text")) with
    {
        Mode = WriteMode.Upsert,
        Key = ["tenant", "id"],
    };

    private static RowChange Write(string tenant, decimal id, string status) => new(s_mapping, ChangeKind.Write, [tenant, id, status], Message("{}"));

    private static RowChange Delete(string tenant, decimal id) => new(s_mapping, ChangeKind.Delete, [tenant, id, null], Message(null));

    private static (List<object?[]> Writes, List<object?[]> Deletes) Final(MappingConfig mapping, params RowChange[] changes)
    {
        var final = UpsertWriter.FinalChanges(mapping.KeyIndexes(), changes);
        return ([.. final.Where(c => c.Kind == ChangeKind.Write).Select(c => c.Values)], [.. final.Where(c => c.Kind == ChangeKind.Delete).Select(c => c.Values)]);
    }

    [Fact]
    public void The_last_change_per_key_wins_and_every_key_appears_once()
    {
        var (writes, deletes) = Final(s_mapping,
            Write("a", 1, "new"), Write("a", 2, "new"), Write("a", 1, "paid"), Write("b", 1, "new"),
            Delete("a", 2), Write("a", 1, "shipped"),
            Delete("b", 1), Write("b", 1, "again"),
            Write("c", 1, "gone"), Delete("c", 1));

        Assert.Equal([["a", 1m, "shipped"], ["b", 1m, "again"]], writes.OrderBy(w => w[0]).ToList());
        Assert.Equal([["a", 2m, null], ["c", 1m, null]], deletes.OrderBy(d => d[0]).ToList());
    }

    [Fact]
    public void Layers_hold_each_key_once_and_keep_every_change_in_order()
    {
        var layers = UpsertWriter.Layers(s_mapping.KeyIndexes(),
            [Write("a", 1, "v1"), Write("a", 1, "v2"), Write("b", 1, "v1"), Delete("a", 1), Write("a", 1, "v3")]);

        Assert.Equal(
            [["a v1", "b v1"], ["a v2"], ["a "], ["a v3"]],
            layers.Select(l => l.Select(c => $"{c.Values[0]} {c.Values[2]}").ToList()).ToList());
    }

    [Fact]
    public void Keys_compare_by_value_like_postgres_does()
    {
        // numeric 1.0 = 1.00 in Postgres: two rows for them would make ON CONFLICT touch one row twice.
        var (writes, _) = Final(s_mapping, Write("a", 1.0m, "x"), Write("a", 1.00m, "y"));

        Assert.Equal("y", Assert.Single(writes)[2]);
    }

    [Fact]
    public void Bytea_keys_compare_by_content()
    {
        var mapping = MappingOf(Column("k", "key", "bytea"), Column("v", "value.v", "text")) with { Mode = WriteMode.Upsert, Key = ["k"] };
        var (writes, _) = Final(mapping,
            new(mapping, ChangeKind.Write, [new byte[] { 1, 2 }, "x"], Message("{}")), new(mapping, ChangeKind.Write, [new byte[] { 1, 2 }, "y"], Message("{}")));

        Assert.Equal("y", Assert.Single(writes)[1]);
    }

    [Fact]
    public void Merge_updates_every_non_key_column_and_quotes_identifiers()
    {
        var mapping = s_mapping with { Table = new TableName("public", "Order Items") };

        var sql = UpsertWriter.MergeSql(mapping, "\"sink_upsert_0\"");

        Assert.Equal(
            "INSERT INTO \"public\".\"Order Items\" (\"tenant\", \"id\", \"status\") SELECT \"tenant\", \"id\", \"status\" FROM \"sink_upsert_0\" " +
            "ON CONFLICT (\"tenant\", \"id\") DO UPDATE SET \"status\" = EXCLUDED.\"status\"",
            sql);
    }

    [Fact]
    public void A_table_of_only_key_columns_does_nothing_on_conflict()
    {
        var mapping = MappingOf(Column("id", "value.id", "bigint")) with { Mode = WriteMode.Upsert, Key = ["id"] };

        Assert.EndsWith("ON CONFLICT (\"id\") DO NOTHING", UpsertWriter.MergeSql(mapping, "s"), StringComparison.Ordinal);
    }

    [Fact]
    public void Delete_matches_every_key_column()
    {
        Assert.Equal(
            "DELETE FROM \"public\".\"orders\" AS t USING \"d0\" AS d WHERE t.\"tenant\" = d.\"tenant\" AND t.\"id\" = d.\"id\"",
            UpsertWriter.DeleteSql(s_mapping, s_mapping.KeyIndexes(), "\"d0\""));
    }
}
