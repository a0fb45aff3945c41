using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Configuration.Loading;
using SinkConnector.Testing;
using SinkConnector.Writing;

namespace SinkConnector.IntegrationTests;

/// <summary><c>sink tables plan/apply</c> and <c>auto_create</c>/<c>auto_evolve</c> against a real database.</summary>
public class TablesTests(TestServices services)
{
    private const string Orders = """
        topic: orders
        table: shop.orders
        mode: upsert
        key: [id]
        columns:
          id:         { from: value.id, type: bigint }
          amount:     { from: value.amount, type: "numeric(12,2)" }
          note:       { from: value.note, type: "varchar(40)", nullable: true }
          tags:       { from: value.tags, type: "text[]" }
          created_at: { from: value.created_at, type: timestamptz }
        """;

    private const string Events = """
        topic: events
        table: public.events
        columns:
          id:      { from: value.id, type: bigint }
          payload: { from: value, type: jsonb }
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Plan_on_an_empty_database_creates_schema_and_tables_then_apply_makes_it_empty()
    {
        using var config = await TableConfig.CreateAsync(services, "tables_empty", ("orders", Orders), ("events", Events));

        var plan = await config.PlanAsync();

        Assert.Empty(plan.Problems);
        // Mappings in file name order.
        Assert.Equal(
            [
                ("events", TableChangeKind.CreateTable, "CREATE TABLE \"public\".\"events\" (\"id\" bigint NOT NULL, \"payload\" jsonb NOT NULL)"),
                ("orders", TableChangeKind.CreateSchema, "CREATE SCHEMA IF NOT EXISTS \"shop\""),
                ("orders", TableChangeKind.CreateTable,
                    "CREATE TABLE \"shop\".\"orders\" (\"id\" bigint NOT NULL, \"amount\" numeric(12,2) NOT NULL, \"note\" character varying(40), " +
                    "\"tags\" text[] NOT NULL, \"created_at\" timestamp with time zone NOT NULL, PRIMARY KEY (\"id\"))"),
            ],
            plan.Changes.Select(c => (c.Mapping.Name, c.Kind, c.Sql)));

        var applied = await config.ApplyAsync();
        Assert.Equal(plan.Changes.Select(c => c.Sql), applied.Changes.Select(c => c.Sql));
        var again = await config.PlanAsync();
        Assert.Empty(again.Changes);
        Assert.Empty(again.Problems);

        Assert.Equal(
            [
                "id bigint not null",
                "amount numeric(12,2) not null",
                "note character varying(40) null",
                "tags text[] not null",
                "created_at timestamp with time zone not null",
            ],
            await config.ColumnsAsync("shop.orders"));
        Assert.Equal(["id"], await config.PrimaryKeyAsync("shop.orders"));
        Assert.Empty(await config.PrimaryKeyAsync("public.events"));
        // What `sink validate` checks: the created tables fit their mappings.
        Assert.Empty(await config.ValidateAsync());
    }

    [Fact]
    public async Task A_mapping_that_gains_a_column_gets_only_an_add_column()
    {
        using var config = await TableConfig.CreateAsync(services, "tables_gain", ("orders", Orders), ("events", Events));
        await config.ApplyAsync();
        await config.ExecuteAsync("INSERT INTO shop.orders VALUES (1, 2.50, null, '{a}', now())");

        config.WriteMapping("orders", Orders + "\n  discount: { from: value.discount, type: \"numeric(5,2)\" }");
        var plan = await config.PlanAsync();

        Assert.Empty(plan.Problems);
        var change = Assert.Single(plan.Changes);
        Assert.Equal((TableChangeKind.AddColumn, "ALTER TABLE \"shop\".\"orders\" ADD COLUMN \"discount\" numeric(5,2)"), (change.Kind, change.Sql));
        await config.ApplyAsync();
        // Added nullable: the row that was there has no value for it.
        Assert.Contains("discount numeric(5,2) null", await config.ColumnsAsync("shop.orders"));
        Assert.Empty((await config.PlanAsync()).Changes);
    }

    [Fact]
    public async Task Type_mismatch_is_reported_and_never_altered()
    {
        using var config = await TableConfig.CreateAsync(services, "tables_mismatch", ("events", Events + "\n  note: { from: value.note, type: text, nullable: true }"));
        await config.ExecuteAsync("CREATE TABLE public.events (id integer NOT NULL, payload jsonb NOT NULL)");

        var (exit, output) = await SinkProcess.RunToEndAsync(["tables", "apply", "--config", config.Directory], config.Environment);

        Assert.True(exit == 2, output);
        Assert.Contains(
            $"{config.MappingFile("events")}: columns.id.type: public.events.id is integer in the database, the mapping says bigint; column types are never altered",
            output, StringComparison.Ordinal);
        // The safe change is applied all the same.
        Assert.Contains("ALTER TABLE \"public\".\"events\" ADD COLUMN \"note\" text;", output, StringComparison.Ordinal);
        Assert.Equal(["id integer not null", "payload jsonb not null", "note text null"], await config.ColumnsAsync("public.events"));

        var (again, againOutput) = await SinkProcess.RunToEndAsync(["tables", "plan", "--config", config.Directory], config.Environment);
        Assert.True(again == 2, againOutput);
        Assert.Contains("-- nothing to do: all target tables and columns exist", againOutput, StringComparison.Ordinal);
        Assert.Contains("columns.id.type", againOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tables_plan_and_apply_through_the_cli_print_the_script_and_exit_0()
    {
        using var config = await TableConfig.CreateAsync(services, "tables_cli", ("orders", Orders), ("events", Events));
        string[] Args(string verb) => ["tables", verb, "--config", config.Directory];

        var (planExit, planOutput) = await SinkProcess.RunToEndAsync(Args("plan"), config.Environment);
        Assert.True(planExit == 0, planOutput);
        var lines = planOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["-- mapping events: public.events", "CREATE TABLE", "-- mapping orders: shop.orders", "CREATE SCHEMA", "CREATE TABLE"],
            lines.Select(l => l.StartsWith("--", StringComparison.Ordinal) ? l : string.Join(' ', l.Split(' ').Take(2))));
        Assert.All(lines.Where(l => !l.StartsWith("--", StringComparison.Ordinal)), l => Assert.EndsWith(";", l, StringComparison.Ordinal));
        Assert.Empty(await config.ColumnsAsync("public.events"));

        var (applyExit, applyOutput) = await SinkProcess.RunToEndAsync(Args("apply"), config.Environment);
        Assert.True(applyExit == 0, applyOutput);
        Assert.Equal(planOutput, applyOutput);

        var (emptyExit, emptyOutput) = await SinkProcess.RunToEndAsync(Args("plan"), config.Environment);
        Assert.True(emptyExit == 0, emptyOutput);
        Assert.Equal("-- nothing to do: all target tables and columns exist", emptyOutput.Trim());
    }

    [Fact]
    public async Task Identifiers_that_need_quotes_work()
    {
        const string items = """
            topic: items
            table: 'public."Order Items"'
            mode: upsert
            key: [select]
            columns:
              select:       { from: value.select, type: bigint }
              "Mixed Case": { from: value.mixed, type: text }
              "a\"b":       { from: value.ab, type: jsonb }
            """;
        using var config = await TableConfig.CreateAsync(services, "tables_quotes", ("items", items));

        var applied = await config.ApplyAsync();
        Assert.Single(applied.Changes);
        Assert.Equal(["select bigint not null", "Mixed Case text not null", "a\"b jsonb not null"], await config.ColumnsAsync("public.\"Order Items\""));
        Assert.Equal(["select"], await config.PrimaryKeyAsync("public.\"Order Items\""));

        config.WriteMapping("items", items + "\n  from: { from: value.from, type: text }");
        var added = Assert.Single((await config.ApplyAsync()).Changes);
        Assert.Equal("ALTER TABLE \"public\".\"Order Items\" ADD COLUMN \"from\" text", added.Sql);
        Assert.Empty(await config.ValidateAsync());
    }

    [Fact]
    public async Task Startup_creates_and_evolves_only_what_the_mappings_allow_once_across_concurrent_replicas()
    {
        using var config = await TableConfig.CreateAsync(services, "tables_auto",
            ("orders", "auto_create: true\n" + Orders),
            ("events", "auto_evolve: true\n" + Events + "\n  note: { from: value.note, type: text, nullable: true }"),
            ("manual", "topic: manual\ntable: public.manual\ncolumns:\n  id: { from: value.id, type: bigint }"));
        await config.ExecuteAsync("CREATE TABLE public.events (id bigint NOT NULL, payload jsonb NOT NULL)");
        var mappings = config.Load().Mappings;
        await using var dataSource = NpgsqlDataSource.Create(config.ConnectionString);

        var replicas = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => TableManager.ApplyAutomaticAsync(dataSource, mappings, Ct), Ct)));

        // Queued on the advisory lock: the first replica did everything, the others found nothing missing.
        Assert.Single(replicas, r => r.Changes.Count > 0);
        Assert.Equal(
            [
                "ALTER TABLE \"public\".\"events\" ADD COLUMN \"note\" text",
                "CREATE SCHEMA IF NOT EXISTS \"shop\"",
                "CREATE TABLE \"shop\".\"orders\" (\"id\" bigint NOT NULL, \"amount\" numeric(12,2) NOT NULL, \"note\" character varying(40), " +
                "\"tags\" text[] NOT NULL, \"created_at\" timestamp with time zone NOT NULL, PRIMARY KEY (\"id\"))",
            ],
            replicas.Single(r => r.Changes.Count > 0).Changes.Select(c => c.Sql));
        Assert.Empty(await config.ColumnsAsync("public.manual"));
    }

    [Fact]
    public async Task Tables_plan_shows_a_range_partitioned_parent_with_its_partitions_ahead_and_apply_creates_them_once()
    {
        const string readings = """
            topic: readings
            table: public.readings
            mode: upsert
            key: [id, created_at]
            partition: { by: created_at, interval: 1 month, ahead: 1 }
            columns:
              id:         { from: value.id, type: bigint }
              created_at: { from: value.created_at, type: timestamptz }
            """;
        using var config = await TableConfig.CreateAsync(services, "tables_partitioned", ("readings", readings));
        var month = PartitionWindow.Floor(DateTime.UtcNow, PartitionInterval.Month);
        string Bound(DateTime start) => start.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) + " 00:00:00+00";

        var (exit, output) = await SinkProcess.RunToEndAsync(["tables", "plan", "--config", config.Directory], config.Environment);

        Assert.True(exit == 0, output);
        Assert.Contains(
            "CREATE TABLE \"public\".\"readings\" (\"id\" bigint NOT NULL, \"created_at\" timestamp with time zone NOT NULL, PRIMARY KEY (\"id\", \"created_at\")) " +
            "PARTITION BY RANGE (\"created_at\");", output, StringComparison.Ordinal);
        Assert.Contains(
            $"CREATE TABLE IF NOT EXISTS \"public\".\"readings_p{month:yyyyMM}\" PARTITION OF \"public\".\"readings\" " +
            $"FOR VALUES FROM ('{Bound(month)}') TO ('{Bound(month.AddMonths(1))}');", output, StringComparison.Ordinal);
        Assert.Contains($"\"readings_p{month.AddMonths(1):yyyyMM}\"", output, StringComparison.Ordinal);

        Assert.Equal(3, (await config.ApplyAsync()).Changes.Count);
        Assert.Empty((await config.PlanAsync()).Changes);
        // What `sink validate` checks: the key holds the partition column and the table is partitioned as partition: says.
        Assert.Empty(await config.ValidateAsync());
    }

    /// <summary>A fresh database and a config directory whose mappings the test writes.</summary>
    private sealed class TableConfig : IDisposable
    {
        private TableConfig(string connectionString, string directory)
        {
            ConnectionString = connectionString;
            Directory = directory;
        }

        public string ConnectionString { get; }

        public string Directory { get; }

        public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["SINK_POSTGRES"] = ConnectionString };

        public static async Task<TableConfig> CreateAsync(TestServices services, string name, params (string Name, string Yaml)[] mappings)
        {
            var connectionString = await services.Postgres.CreateDatabaseAsync(name, Ct);
            var config = new TableConfig(connectionString, System.IO.Directory.CreateTempSubdirectory("sink-tables-").FullName);
            await File.WriteAllTextAsync(Path.Combine(config.Directory, "sink.yaml"),
                """
                name: tables-test
                kafka:
                  bootstrap_servers: 127.0.0.1:9092
                postgres:
                  connection_string: ${SINK_POSTGRES}
                """, Ct);
            System.IO.Directory.CreateDirectory(Path.Combine(config.Directory, "mappings"));
            foreach (var (mappingName, yaml) in mappings)
            {
                config.WriteMapping(mappingName, yaml);
            }

            return config;
        }

        public string MappingFile(string name) => Path.Combine(Directory, "mappings", name + ".yaml");

        public void WriteMapping(string name, string yaml) => File.WriteAllText(MappingFile(name), yaml);

        public SinkConfig Load() => ConfigLoader.Load(Directory, name => Environment.GetValueOrDefault(name));

        public async Task<TablePlan> PlanAsync()
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync(Ct);
            return await TableManager.PlanAsync(connection, Load().Mappings, Ct);
        }

        public async Task<TablePlan> ApplyAsync()
        {
            await using var dataSource = NpgsqlDataSource.Create(ConnectionString);
            return await TableManager.ApplyAsync(dataSource, Load().Mappings, filter: null, Ct);
        }

        public async Task<List<ConfigError>> ValidateAsync()
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync(Ct);
            var errors = new List<ConfigError>();
            foreach (var mapping in Load().Mappings)
            {
                errors.AddRange(await TableInspector.CheckAsync(connection, mapping, Ct));
            }

            return errors;
        }

        public async Task ExecuteAsync(string sql)
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync(Ct);
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(Ct);
        }

        /// <summary>"name type not null" per column as pg_catalog has it; empty when the table does not exist.</summary>
        public Task<List<string>> ColumnsAsync(string table) => QueryAsync(
            """
            SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE ' null' END
            FROM pg_attribute a WHERE a.attrelid = to_regclass(@table) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """, table);

        public Task<List<string>> PrimaryKeyAsync(string table) => QueryAsync(
            """
            SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
            WHERE i.indrelid = to_regclass(@table) AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)
            """, table);

        private async Task<List<string>> QueryAsync(string sql, string table)
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync(Ct);
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue("table", table);
            var rows = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(Ct);
            while (await reader.ReadAsync(Ct))
            {
                rows.Add(reader.GetString(0));
            }

            return rows;
        }

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }
}
