using SinkConnector.Configuration;
using SinkConnector.PgBinary;
using SinkConnector.Writing;

namespace SinkConnector.UnitTests.Writing;

/// <summary>
/// The new column types against tables: the DDL <c>auto_create</c> plans for them, and which database column types
/// (as format_type spells them) binary COPY of each can write.
/// </summary>
public class PostgresTypeTablesTests
{
    private static readonly SourcePath s_from = SourcePath.TryParse("value", out var path, out _) ? path! : throw new InvalidOperationException();

    [Fact]
    public void Auto_create_declares_the_enum_by_its_quoted_name_and_the_other_types_as_postgres_spells_them()
    {
        string[] types = ["enum(sales.order_status)", "inet", "cidr[]", "macaddr", "interval", "citext", "int4range", "tstzrange[]", "numeric"];
        var change = Assert.Single(TableManager.Plan([Hosts(types)], new TableCatalog(new HashSet<string> { "public" }, new Dictionary<TableName, IReadOnlyList<DatabaseColumn>>())).Changes);

        Assert.Equal(
            "CREATE TABLE \"public\".\"hosts\" (\"c0\" \"sales\".\"order_status\", \"c1\" inet, \"c2\" cidr[], \"c3\" macaddr, \"c4\" interval, " +
            "\"c5\" citext, \"c6\" int4range, \"c7\" tstzrange[], \"c8\" numeric)",
            change.Sql);
    }

    [Fact]
    public void Auto_create_declares_arrays_of_enums_citext_macaddr8_and_ranges_as_postgres_spells_them()
    {
        string[] types = ["enum(order_status)[]", "enum(sales.order_status)[]", "citext[]", "macaddr8", "macaddr8[]", "numrange[]", "numeric[]", "inet[]"];
        var change = Assert.Single(TableManager.Plan([Hosts(types)], new TableCatalog(new HashSet<string> { "public" }, new Dictionary<TableName, IReadOnlyList<DatabaseColumn>>())).Changes);

        Assert.Equal(
            "CREATE TABLE \"public\".\"hosts\" (\"c0\" \"order_status\"[], \"c1\" \"sales\".\"order_status\"[], \"c2\" citext[], \"c3\" macaddr8, " +
            "\"c4\" macaddr8[], \"c5\" numrange[], \"c6\" numeric[], \"c7\" inet[])",
            change.Sql);
    }

    private static MappingConfig Hosts(string[] types) =>
        new()
        {
            Name = "hosts",
            File = "/config/mappings/hosts.yaml",
            Topics = ["hosts"],
            Table = new TableName("public", "hosts"),
            Columns = [.. types.Select((t, i) => new ColumnMapping($"c{i}", s_from, ColumnType.Parse(t), Nullable: true, null))],
        };

    [Theory]
    [InlineData("enum(order_status)", "order_status", true)]
    [InlineData("enum(order_status)", "sales.order_status", true)]
    [InlineData("enum(sales.order_status)", "sales.order_status", true)]
    [InlineData("enum(sales.order_status)", "order_status", true)] // format_type leaves out a schema on the search_path
    [InlineData("enum(sales.order_status)", "other.order_status", false)]
    [InlineData("enum(Order_Status)", "\"Order_Status\"", true)]
    [InlineData("enum(order_status)", "\"Order_Status\"", false)]
    [InlineData("enum(order_status)", "text", false)]
    [InlineData("citext", "citext", true)]
    [InlineData("citext", "ext.citext", true)]
    [InlineData("citext", "text", false)]
    [InlineData("text", "citext", false)]
    [InlineData("inet", "inet", true)]
    [InlineData("inet", "cidr", false)]
    [InlineData("cidr[]", "cidr[]", true)]
    [InlineData("interval", "interval", true)]
    [InlineData("int4range", "int8range", false)]
    [InlineData("numeric", "numeric(12,2)", true)]
    [InlineData("enum(order_status)[]", "order_status[]", true)]
    [InlineData("enum(sales.order_status)[]", "sales.order_status[]", true)]
    [InlineData("enum(Order_Status)[]", "\"Order_Status\"[]", true)]
    [InlineData("enum(order_status)[]", "order_status", false)]
    [InlineData("enum(order_status)", "order_status[]", false)]
    [InlineData("enum(order_status)[]", "text[]", false)]
    [InlineData("citext[]", "citext[]", true)]
    [InlineData("citext[]", "ext.citext[]", true)]
    [InlineData("citext[]", "citext", false)]
    [InlineData("citext", "citext[]", false)]
    [InlineData("citext[]", "text[]", false)]
    [InlineData("macaddr8", "macaddr8", true)]
    [InlineData("macaddr8[]", "macaddr8[]", true)]
    [InlineData("macaddr8", "macaddr", false)]
    [InlineData("numeric[]", "numeric(10,2)[]", true)]
    [InlineData("tsrange[]", "tsrange[]", true)]
    public void Copy_compatibility_of_the_new_types_with_database_columns(string mappingType, string databaseType, bool compatible)
    {
        Assert.Equal(compatible, TableInspector.CopyCompatible(ColumnType.Parse(mappingType), databaseType));
    }
}
