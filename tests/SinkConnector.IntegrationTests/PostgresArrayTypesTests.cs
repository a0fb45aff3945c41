using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using SinkConnector.Schema;
using SinkConnector.Testing;
using SinkConnector.Writing;
using static SinkConnector.IntegrationTests.TypeColumns;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Arrays of the issue #24 types (enum, citext, inet, cidr, macaddr, macaddr8, interval, the six ranges, numeric
/// without scale) and macaddr8, from JSON arrays through binary COPY into Postgres, compared as Postgres prints them:
/// by the converted values and by the single-pass encoder, and through the <c>sink</c> process (insert and upsert
/// staging, auto_create, a bad element dead-lettered).
/// </summary>
public class PostgresArrayTypesTests(TestServices services)
{
    private static readonly (string Type, string Json, string Stored)[] s_columns =
    [
        ("enum(order_status)[]", "[\"new\", \"in progress\", \"it's \\\"done\\\"\", \"new\"]", "{new,\"in progress\",\"it's \\\"done\\\"\",new}"),
        ("enum(public.order_status)[]", "[]", "{}"),
        ("citext[]", "[\"Hello\", \"MiXeD Case\", \"\", \"ü\"]", "{Hello,\"MiXeD Case\",\"\",ü}"),
        ("citext[]", "[]", "{}"),
        ("macaddr8", "\"08:00:2b:01:02:03:04:05\"", "08:00:2b:01:02:03:04:05"),
        ("macaddr8", "\"08-00-2b-01-02-03\"", "08:00:2b:ff:fe:01:02:03"),
        ("macaddr8[]", "[\"0800.2b01.0203.0405\", \"08002b010203\"]", "{08:00:2b:01:02:03:04:05,08:00:2b:ff:fe:01:02:03}"),
        ("inet[]", "[\"::ffff:1.2.3.4\", \"0.0.0.0/0\"]", "{::ffff:1.2.3.4,0.0.0.0/0}"),
        ("cidr[]", "[\"::/0\", \"192.168.1.5\"]", "{::/0,192.168.1.5/32}"),
        ("macaddr[]", "[]", "{}"),
        ("interval[]", "[\"-P1D\", 9223372036854775807]", "{\"-1 days\",2562047788:00:54.775807}"),
        ("int4range[]", "[\"[1,5]\", \"(,)\"]", "{\"[1,6)\",\"(,)\"}"),
        ("int8range[]", "[\"[-9223372036854775808,0)\", \"empty\"]", "{\"[-9223372036854775808,0)\",empty}"),
        ("numrange[]", "[\"(1.5,2.25]\"]", "{\"(1.5,2.25]\"}"),
        ("tsrange[]", "[\"[2024-01-01T10:00:00,)\"]", "{\"[\\\"2024-01-01 10:00:00\\\",)\"}"),
        ("tstzrange[]", "[\"[2024-01-01T10:00:00Z,2024-01-02T00:00:00Z)\"]", "{\"[\\\"2024-01-01 10:00:00+00\\\",\\\"2024-01-02 00:00:00+00\\\")\"}"),
        ("daterange[]", "[\"[2024-01-01,2024-02-01]\", \"empty\"]", "{\"[2024-01-01,2024-02-02)\",empty}"),
        ("numeric[]", "[\"-Infinity\", \"0.000000000000000000000000000000000000001\", 12.50]", "{-Infinity,0.000000000000000000000000000000000000001,12.50}"),
    ];

    [Fact]
    public async Task Arrays_of_the_new_types_copy_into_postgres_by_value_and_by_the_single_pass_encoder_with_citext_off_the_search_path()
    {
        var connectionString = await services.Postgres.CreateDatabaseAsync("pg_arrays", Ct);
        await using var connection = new NpgsqlConnection(connectionString + ";Timezone=UTC");
        await connection.OpenAsync(Ct);
        // citext in a schema of its own, off the search_path: format_type qualifies it, and its OID is that schema's.
        await ExecuteAsync(connection, """
            CREATE SCHEMA ext;
            CREATE EXTENSION citext SCHEMA ext;
            CREATE TYPE public.order_status AS ENUM ('new', 'in progress', 'it''s "done"');
            """);
        var mapping = JsonMapping("public", "pg_arrays", s_columns.Select(c => c.Type));
        var columns = mapping.Columns.Skip(1).Select(c => $"{c.Name} {(c.Type.Scalar == ScalarType.Citext ? "ext.citext[]" : c.Type.SqlName)}");
        await ExecuteAsync(connection, $"CREATE TABLE public.pg_arrays (row_id int, {string.Join(", ", columns)})");
        // The startup check: the table fits, the enum's labels and the per-database element OIDs are read.
        Assert.Empty(await TableInspector.CheckAsync(connection, mapping, Ct));

        await CopyByValueAndByEncoderAsync(connection, mapping, s_columns);

        // citext[] keeps its element type: ANY with citext's equality (in its schema) compares without case.
        Assert.Equal(2L, await ScalarAsync(connection, "SELECT count(*) FROM public.pg_arrays WHERE 'hello'::ext.citext OPERATOR(ext.=) ANY (c2)"));
    }

    [Fact]
    public async Task Element_oids_for_templated_tables_resolve_by_type_name_and_for_replay_from_the_table_and_a_missing_enum_is_named()
    {
        var connectionString = await services.Postgres.CreateDatabaseAsync("pg_array_oids", Ct);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await ExecuteAsync(connection, """
            CREATE EXTENSION citext;
            CREATE TYPE public.order_status AS ENUM ('new');
            CREATE TABLE public.replayed (row_id int, c0 order_status[], c1 citext[]);
            """);
        await using var query = new NpgsqlCommand("SELECT ARRAY['order_status'::regtype::oid, 'citext'::regtype::oid]", connection);
        var expected = (uint[])(await query.ExecuteScalarAsync(Ct))!;

        // A table template's mapping: no table yet, so by name at startup.
        var templated = JsonMapping("public", "not_created_yet", ["enum(order_status)[]", "citext[]", "enum(order_status)"]);
        Assert.Empty(await ElementOidResolver.ByNameAsync(connection, templated, Ct));
        Assert.Equal(expected, (uint[])[templated.Columns[1].Type.ElementOid!.Value!.Value, templated.Columns[2].Type.ElementOid!.Value!.Value]);

        // Replay: from the table's columns.
        var replayed = JsonMapping("public", "replayed", ["enum(order_status)[]", "citext[]"]);
        await ElementOidResolver.FromTableAsync(connection, replayed, Ct);
        Assert.Equal(expected, (uint[])[replayed.Columns[1].Type.ElementOid!.Value!.Value, replayed.Columns[2].Type.ElementOid!.Value!.Value]);

        var missing = Assert.Single(await ElementOidResolver.ByNameAsync(connection, JsonMapping("public", "t", ["enum(no_such_status)[]"]), Ct));
        Assert.Equal("columns.c0.type", missing.Key);
        Assert.Contains("enum type no_such_status does not exist", missing.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sink_creates_copies_and_upserts_array_columns_and_dead_letters_a_bad_element_naming_column_index_and_reason()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "pg_arrays_sink", partitions: 1);
        await bed.ExecuteAsync("""
            CREATE EXTENSION IF NOT EXISTS citext;
            CREATE TYPE public.order_status AS ENUM ('new', 'in progress', 'done');
            """);
        var upsertTopic = await bed.AddTopicAsync("pg-arrays-upsert", 1);
        await bed.WriteMappingAsync("missing.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.never
            auto_create: true
            columns:
              tags: { from: value.tags, type: "enum(no_such_status)[]" }
            """);
        var (exit, output) = await SinkProcess.RunToEndAsync(["validate", "--config", bed.ConfigDirectory], bed.Environment);
        Assert.True(exit == 2, output);
        Assert.Contains("columns.tags.type: enum type no_such_status does not exist", output, StringComparison.Ordinal);
        Assert.Contains("auto_create and `sink tables apply` create tables and columns, not enum types", output, StringComparison.Ordinal);
        File.Delete(Path.Combine(bed.ConfigDirectory, "mappings", "missing.yaml"));

        await bed.WriteMappingAsync("events.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.devices
            auto_create: true
            on_error: dead_letter
            columns:
              id:     { from: value.id, type: bigint }
              states: { from: value.states, type: "enum(order_status)[]" }
              names:  { from: value.names, type: "citext[]", nullable: true }
              mac:    { from: value.mac, type: macaddr8, nullable: true }
              macs:   { from: value.macs, type: "macaddr8[]", nullable: true }
              nets:   { from: value.nets, type: "cidr[]", nullable: true }
              took:   { from: value.took, type: "interval[]", nullable: true }
              spans:  { from: value.spans, type: "int8range[]", nullable: true }
              days:   { from: value.days, type: "daterange[]", nullable: true }
              nums:   { from: value.nums, type: "numeric[]", nullable: true }
            """);
        await bed.WriteMappingAsync("latest.yaml", $$"""
            topic: {{upsertTopic}}
            table: public.devices_latest
            auto_create: true
            mode: upsert
            key: [id]
            on_error: dead_letter
            columns:
              id:     { from: value.id, type: bigint }
              states: { from: value.states, type: "enum(order_status)[]" }
              names:  { from: value.names, type: "citext[]" }
              macs:   { from: value.macs, type: "macaddr8[]" }
              spans:  { from: value.spans, type: "numrange[]" }
            """);

        string[] good =
        [
            """{"id":1,"states":["new","in progress"],"names":["Alice","bob"],"mac":"08:00:2b:01:02:03:04:05","macs":["08:00:2b:01:02:03"],"nets":["10.0.0.0/8"],"took":["P1M",1],"spans":["[1,2)","empty"],"days":["[2024-01-01,2024-01-02)"],"nums":["NaN",1.50]}""",
            """{"id":2,"states":[],"names":[],"macs":[],"nums":[]}""",
        ];
        (string Column, string Json, string Reason)[] bad =
        [
            ("states", """{"id":3,"states":["new","shipped"]}""", "element [1]: 'shipped' is not a label of enum order_status"),
            ("names", """{"id":4,"states":["new"],"names":["a",null]}""", "element [1] is null"),
            ("macs", """{"id":5,"states":["new"],"macs":["08:00:2b:01:02:03:04"]}""", "element [0]: '08:00:2b:01:02:03:04' is not a valid macaddr8"),
        ];
        await bed.ProduceAsync(bed.Topic, good.Concat(bad.Select(b => b.Json)).Select(json => (0, Json(json))));
        // One batch: key 1 three times (the last wins) around a change with a bad element, which alone is dead-lettered.
        string[] changes =
        [
            """{"id":1,"states":["new"],"names":["x"],"macs":[],"spans":["(,)"]}""",
            """{"id":2,"states":["done","done"],"names":["Two"],"macs":["08002b0102030405"],"spans":["[0.5,1]"]}""",
            """{"id":1,"states":["in progress"],"names":["y"],"macs":[],"spans":[]}""",
            """{"id":1,"states":["bogus"],"names":["z"],"macs":[],"spans":[]}""",
            """{"id":1,"states":["done","new"],"names":["Ünïcode","MiXeD"],"macs":["0800.2b01.0203"],"spans":["[1,2)","empty"]}""",
        ];
        await bed.ProduceAsync(upsertTopic, changes.Select(json => (0, Json(json))));
        // A table template's table appears with its first batch, encoded before it exists: element OIDs by name at startup.
        var prefix = "pa" + Guid.NewGuid().ToString("N")[..6];
        await bed.WriteMappingAsync("templated.yaml", $$"""
            topics_regex: '{{prefix}}-(?<suffix>[0-9a-f]+)'
            table: public.{{prefix}}_{suffix}
            auto_create: true
            columns:
              id:     { from: value.id, type: bigint }
              states: { from: value.states, type: "enum(order_status)[]" }
              names:  { from: value.names, type: "citext[]" }
            """);
        var templatedTopic = await bed.AddTopicAsync(prefix, 1);
        await bed.ProduceAsync(templatedTopic, [(0, Json("""{"id":7,"states":["done"],"names":["Seven"]}"""))]);
        await bed.RunToCompletionAsync(good.Length + bad.Length + changes.Length + 1);

        var devices = await bed.QueryAsync(
            "SELECT format('%s|%s|%s|%s|%s|%s|%s|%s|%s', states, names, mac, macs, nets, took, spans, days, nums) FROM public.devices ORDER BY id",
            r => r.GetString(0));
        Assert.Equal(
            [
                "{new,\"in progress\"}|{Alice,bob}|08:00:2b:01:02:03:04:05|{08:00:2b:ff:fe:01:02:03}|{10.0.0.0/8}|{\"1 mon\",00:00:00.000001}|{\"[1,2)\",empty}|{\"[2024-01-01,2024-01-02)\"}|{NaN,1.50}",
                "{}|{}||{}|||||{}",
            ],
            devices);
        // The element type is citext: ANY compares without case.
        Assert.Equal(1, await bed.ScalarAsync("SELECT count(*) FROM public.devices WHERE 'BOB' = ANY (names)"));

        var letters = await bed.QueryAsync($"SELECT error_message FROM sink.dead_letters WHERE topic = '{bed.Topic}' ORDER BY \"offset\"", r => r.GetString(0));
        Assert.Equal(bad.Length, letters.Count);
        Assert.All(bad.Zip(letters), pair =>
        {
            Assert.StartsWith($"value.{pair.First.Column}: ", pair.Second, StringComparison.Ordinal);
            Assert.Contains(pair.First.Reason, pair.Second, StringComparison.Ordinal);
        });

        var latest = await bed.QueryAsync("SELECT format('%s|%s|%s|%s|%s', id, states, names, macs, spans) FROM public.devices_latest ORDER BY id", r => r.GetString(0));
        Assert.Equal(
            ["1|{done,new}|{Ünïcode,MiXeD}|{08:00:2b:ff:fe:01:02:03}|{\"[1,2)\",empty}", "2|{done,done}|{Two}|{08:00:2b:01:02:03:04:05}|{\"[0.5,1]\"}"],
            latest);
        var upsertLetter = (await bed.QueryAsync($"SELECT error_message FROM sink.dead_letters WHERE topic = '{upsertTopic}'", r => r.GetString(0))).Single();
        Assert.StartsWith("value.states: element [0]: 'bogus' is not a label of enum order_status", upsertLetter, StringComparison.Ordinal);

        var templatedTable = $"public.{prefix}_{templatedTopic[(prefix.Length + 1)..]}";
        Assert.Equal(["7|{done}|{Seven}"], await bed.QueryAsync($"SELECT format('%s|%s|%s', id, states, names) FROM {templatedTable}", r => r.GetString(0)));
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
}
