using SinkConnector.Configuration;
using SinkConnector.PgBinary;
using SinkConnector.Writing;

namespace SinkConnector.UnitTests.Writing;

/// <summary>The DDL planned from mappings against a catalog, without a database.</summary>
public class TableManagerTests
{
    private static readonly SourcePath s_from = SourcePath.TryParse("value", out var path, out _) ? path! : throw new InvalidOperationException();

    private static MappingConfig Mapping(string name, TableName table, params (string Name, string Type, bool Nullable)[] columns) => new()
    {
        Name = name,
        File = $"/config/mappings/{name}.yaml",
        Topics = [name],
        Table = table,
        Columns = [.. columns.Select(c => new ColumnMapping(c.Name, s_from, ColumnType.Parse(c.Type), c.Nullable, null))],
    };

    private static TableCatalog Catalog(string[] schemas, params (TableName Table, (string Name, string Type)[] Columns)[] tables) => new(
        schemas.ToHashSet(),
        tables.ToDictionary(t => t.Table, t => (IReadOnlyList<DatabaseColumn>)[.. t.Columns.Select(c => new DatabaseColumn(c.Name, c.Type, false, false))]));

    private static readonly TableName s_orders = new("shop", "orders");

    [Fact]
    public void A_missing_schema_and_table_are_created_with_not_null_columns_and_the_upsert_key_as_primary_key()
    {
        var mapping = Mapping("orders", s_orders, ("id", "bigint", false), ("amount", "numeric(12,2)", false), ("note", "varchar(40)", true),
            ("tags", "text[]", false), ("at", "timestamptz", false)) with { Mode = WriteMode.Upsert, Key = ["id"] };

        var plan = TableManager.Plan([mapping], Catalog(["public"]));

        Assert.Empty(plan.Problems);
        Assert.Equal(
            [
                "CREATE SCHEMA IF NOT EXISTS \"shop\"",
                "CREATE TABLE \"shop\".\"orders\" (\"id\" bigint NOT NULL, \"amount\" numeric(12,2) NOT NULL, \"note\" character varying(40), " +
                "\"tags\" text[] NOT NULL, \"at\" timestamp with time zone NOT NULL, PRIMARY KEY (\"id\"))",
            ],
            plan.Changes.Select(c => c.Sql));
        Assert.Equal([TableChangeKind.CreateSchema, TableChangeKind.CreateTable], plan.Changes.Select(c => c.Kind));
        Assert.All(plan.Changes, c => Assert.Same(mapping, c.Mapping));
    }

    [Fact]
    public void An_insert_mapping_gets_no_primary_key_and_an_existing_schema_is_not_created()
    {
        var mapping = Mapping("orders", s_orders, ("id", "bigint", false)) with { Key = ["id"] };

        var change = Assert.Single(TableManager.Plan([mapping], Catalog(["shop"])).Changes);

        Assert.Equal("CREATE TABLE \"shop\".\"orders\" (\"id\" bigint NOT NULL)", change.Sql);
    }

    [Fact]
    public void A_missing_column_of_an_existing_table_is_added_nullable_and_compatible_types_are_left_alone()
    {
        var mapping = Mapping("orders", s_orders, ("id", "bigint", false), ("name", "text", false), ("amount", "numeric(12,2)", false), ("extra", "bigint", false));
        var catalog = Catalog(["shop"], (s_orders, [("id", "bigint"), ("name", "character varying(10)"), ("amount", "numeric(20,4)")]));

        var plan = TableManager.Plan([mapping], catalog);

        Assert.Empty(plan.Problems);
        var change = Assert.Single(plan.Changes);
        Assert.Equal(TableChangeKind.AddColumn, change.Kind);
        Assert.Equal("ALTER TABLE \"shop\".\"orders\" ADD COLUMN \"extra\" bigint", change.Sql);
    }

    [Fact]
    public void A_column_of_another_type_is_a_problem_naming_file_and_key_and_is_not_changed()
    {
        var mapping = Mapping("orders", s_orders, ("id", "bigint", false));

        var plan = TableManager.Plan([mapping], Catalog(["shop"], (s_orders, [("id", "integer")])));

        Assert.Empty(plan.Changes);
        var problem = Assert.Single(plan.Problems);
        Assert.Equal(("/config/mappings/orders.yaml", "columns.id.type"), (problem.File, problem.Key));
        Assert.Equal("shop.orders.id is integer in the database, the mapping says bigint; column types are never altered", problem.Reason);
    }

    [Fact]
    public void Two_mappings_of_one_missing_table_create_it_once_and_add_each_column_once()
    {
        var first = Mapping("eu", s_orders, ("id", "bigint", false), ("eu_only", "text", false));
        var second = Mapping("us", s_orders, ("id", "bigint", false), ("us_only", "text", false));
        var third = Mapping("asia", s_orders, ("id", "integer", false), ("us_only", "text", false));

        var plan = TableManager.Plan([first, second, third], Catalog([]));

        // eu_only is nullable: the rows of the other mappings have no value for it.
        Assert.Equal(
            [
                (first, "CREATE SCHEMA IF NOT EXISTS \"shop\""),
                (first, "CREATE TABLE \"shop\".\"orders\" (\"id\" bigint NOT NULL, \"eu_only\" text)"),
                (second, "ALTER TABLE \"shop\".\"orders\" ADD COLUMN \"us_only\" text"),
            ],
            plan.Changes.Select(c => (c.Mapping, c.Sql)));
        var problem = Assert.Single(plan.Problems);
        Assert.Equal("shop.orders.id is bigint as mapping eu creates it, the mapping says integer; column types are never altered", problem.Reason);
    }

    [Fact]
    public void The_startup_filter_creates_only_for_auto_create_and_adds_columns_only_for_auto_evolve()
    {
        var existing = new TableName("public", "existing");
        var catalog = Catalog(["public"], (existing, [("id", "bigint")]));
        var plain = Mapping("plain", new TableName("public", "plain"), ("id", "bigint", false));
        var create = Mapping("create", new TableName("public", "created"), ("id", "bigint", false)) with { AutoCreate = true };
        var createOnly = Mapping("create_only", existing, ("id", "bigint", false), ("added", "text", false)) with { AutoCreate = true };
        var evolve = Mapping("evolve", existing, ("id", "bigint", false), ("evolved", "text", false)) with { AutoEvolve = true };

        var plan = TableManager.Plan([plain, create, createOnly, evolve], catalog, TableManager.IsAutomatic);

        Assert.Equal(
            [
                "CREATE TABLE \"public\".\"created\" (\"id\" bigint NOT NULL)",
                "ALTER TABLE \"public\".\"existing\" ADD COLUMN \"evolved\" text",
            ],
            plan.Changes.Select(c => c.Sql));
    }

    [Fact]
    public void A_table_is_not_created_when_its_schema_may_not_be()
    {
        var mapping = Mapping("orders", s_orders, ("id", "bigint", false));

        var plan = TableManager.Plan([mapping], Catalog([]), (_, kind) => kind != TableChangeKind.CreateSchema);

        Assert.Empty(plan.Changes);
    }

    [Fact]
    public void Identifiers_are_always_quoted_and_embedded_quotes_doubled()
    {
        var table = new TableName("My \"Shop\"", "Order Items");
        var mapping = Mapping("items", table, ("select", "bigint", false), ("Mixed Case", "text", false), ("a\"b", "jsonb", false))
            with { Mode = WriteMode.Upsert, Key = ["select", "Mixed Case"] };

        var plan = TableManager.Plan([mapping], Catalog([]));

        Assert.Equal(
            [
                "CREATE SCHEMA IF NOT EXISTS \"My \"\"Shop\"\"\"",
                "CREATE TABLE \"My \"\"Shop\"\"\".\"Order Items\" (\"select\" bigint NOT NULL, \"Mixed Case\" text NOT NULL, \"a\"\"b\" jsonb NOT NULL, " +
                "PRIMARY KEY (\"select\", \"Mixed Case\"))",
            ],
            plan.Changes.Select(c => c.Sql));
    }
}
