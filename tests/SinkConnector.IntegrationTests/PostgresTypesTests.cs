using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using SinkConnector.Schema;
using SinkConnector.Writing;
using static SinkConnector.IntegrationTests.TypeColumns;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// The column types of issue #24 (enum, inet, cidr, macaddr, interval, citext, ranges, arrays of them, numeric without
/// scale) and their edge values, from JSON through conversion and binary COPY into Postgres: by the converted values
/// (replays, upsert staging) and by the single-pass encoder the batch converter uses; and through upsert staging.
/// </summary>
public class PostgresTypesTests(TestServices services)
{
    private const string TypesSql = """
        CREATE EXTENSION IF NOT EXISTS citext;
        CREATE TYPE public.order_status AS ENUM ('new', 'in progress', 'it''s "done"', 'Ünïcode ✓');
        """;

    private static readonly string s_thousandDigits = string.Concat(Enumerable.Repeat("1234567890", 100));

    private static readonly (string Type, string Json, string Stored)[] s_columns =
    [
        ("enum(order_status)", "\"in progress\"", "in progress"),
        ("enum(public.order_status)", "\"it's \\\"done\\\"\"", "it's \"done\""),
        ("enum(order_status)", "\"Ünïcode ✓\"", "Ünïcode ✓"),
        ("citext", "\"Hello World\"", "Hello World"),
        ("inet", "\"192.168.1.5/24\"", "192.168.1.5/24"),
        ("inet", "\"10.0.0.1\"", "10.0.0.1"),
        ("inet", "\"0.0.0.0/0\"", "0.0.0.0/0"),
        ("inet", "\"2001:db8::1/64\"", "2001:db8::1/64"),
        ("inet", "\"::1\"", "::1"),
        ("inet", "\"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128\"", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("inet", "\"::ffff:1.2.3.4\"", "::ffff:1.2.3.4"),
        ("cidr", "\"10.0.0.0/8\"", "10.0.0.0/8"),
        ("cidr", "\"192.168.1.5\"", "192.168.1.5/32"),
        ("cidr", "\"0.0.0.0/0\"", "0.0.0.0/0"),
        ("cidr", "\"::/0\"", "::/0"),
        ("cidr", "\"2001:db8::/32\"", "2001:db8::/32"),
        ("cidr", "\"::1/128\"", "::1/128"),
        ("macaddr", "\"08:00:2b:01:02:03\"", "08:00:2b:01:02:03"),
        ("macaddr", "\"08-00-2B-01-02-03\"", "08:00:2b:01:02:03"),
        ("macaddr", "\"08002b:010203\"", "08:00:2b:01:02:03"),
        ("macaddr", "\"0800.2b01.0203\"", "08:00:2b:01:02:03"),
        ("macaddr", "\"08002b010203\"", "08:00:2b:01:02:03"),
        ("interval", "\"P1Y2M3DT4H5M6.5S\"", "1 year 2 mons 3 days 04:05:06.5"),
        ("interval", "\"P1M\"", "1 mon"),
        ("interval", "\"P30D\"", "30 days"),
        ("interval", "\"P2W\"", "14 days"),
        ("interval", "\"-P1D\"", "-1 days"),
        ("interval", "\"P-1DT2H\"", "-1 days +02:00:00"),
        ("interval", "\"PT0.000001S\"", "00:00:00.000001"),
        ("interval", "3600000000", "01:00:00"),
        ("interval", "-1", "-00:00:00.000001"),
        ("interval", "9223372036854775807", "2562047788:00:54.775807"),
        ("interval", "\"P178956970Y\"", "178956970 years"),
        ("interval", "\"1 year 2 mons 3 days 04:05:06.789\"", "1 year 2 mons 3 days 04:05:06.789"),
        ("interval", "\"@ 1 hour ago\"", "-01:00:00"),
        ("int4range", "\"[1,5]\"", "[1,6)"),
        ("int4range", "\"(,10]\"", "(,11)"),
        ("int4range", "\"empty\"", "empty"),
        ("int4range", "\"[3,3)\"", "empty"),
        ("int8range", "\"[-9223372036854775808,0)\"", "[-9223372036854775808,0)"),
        ("numrange", "\"(1.5,2.25]\"", "(1.5,2.25]"),
        ("numrange", "\"(,)\"", "(,)"),
        ("tsrange", "\"[\\\"2024-01-01T10:00:00\\\",\\\"2024-01-02T00:00:00\\\")\"", "[\"2024-01-01 10:00:00\",\"2024-01-02 00:00:00\")"),
        ("tstzrange", "\"[2024-01-01T10:00:00Z,)\"", "[\"2024-01-01 10:00:00+00\",)"),
        ("daterange", "\"[2024-01-01,2024-02-01]\"", "[2024-01-01,2024-02-02)"),
        ("numeric", s_thousandDigits, s_thousandDigits),
        ("numeric", $"\"-{s_thousandDigits}.{s_thousandDigits}\"", $"-{s_thousandDigits}.{s_thousandDigits}"),
        ("numeric", "\"0.00000000000000000000000000000000000000001\"", "0.00000000000000000000000000000000000000001"),
        ("numeric", "1e40", "10000000000000000000000000000000000000000"),
        ("numeric", "12.50", "12.50"),
        ("numeric", "\"NaN\"", "NaN"),
        ("numeric", "\"Infinity\"", "Infinity"),
        ("numeric", "\"-Infinity\"", "-Infinity"),
        ("inet[]", "[\"10.0.0.1\", \"::1/64\"]", "{10.0.0.1,::1/64}"),
        ("cidr[]", "[\"10.0.0.0/8\"]", "{10.0.0.0/8}"),
        ("macaddr[]", "[\"08:00:2b:01:02:03\"]", "{08:00:2b:01:02:03}"),
        ("interval[]", "[\"P1D\", 60000000]", "{\"1 day\",00:01:00}"),
        ("int4range[]", "[\"[1,2)\", \"empty\"]", "{\"[1,2)\",empty}"),
        ("daterange[]", "[\"[2024-01-01,)\"]", "{\"[2024-01-01,)\"}"),
        ("numeric[]", $"[\"NaN\", 1.5, {s_thousandDigits}]", $"{{NaN,1.5,{s_thousandDigits}}}"),
    ];

    [Fact]
    public async Task New_column_types_and_their_edge_values_copy_into_postgres_by_value_and_by_the_single_pass_encoder()
    {
        var connectionString = await services.Postgres.CreateDatabaseAsync("pg_types", Ct);
        await using var connection = new NpgsqlConnection(connectionString + ";Timezone=UTC");
        await connection.OpenAsync(Ct);
        await ExecuteAsync(connection, TypesSql);
        var mapping = JsonMapping("public", "pg_types", s_columns.Select(c => c.Type));
        await ExecuteAsync(connection, $"CREATE TABLE public.pg_types (row_id int, {string.Join(", ", mapping.Columns.Skip(1).Select(c => $"{c.Name} {c.Type.SqlName}"))})");
        // The startup check: the table fits the mapping, and the enum's labels are read for the converter.
        Assert.Empty(await TableInspector.CheckAsync(connection, mapping, Ct));

        await CopyByValueAndByEncoderAsync(connection, mapping, s_columns);
    }

    [Fact]
    public async Task The_sink_creates_tables_of_these_types_copies_and_upserts_them_and_dead_letters_bad_values_naming_column_and_reason()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "pg_types_sink", partitions: 1);
        await bed.ExecuteAsync(TypesSql);
        var upsertTopic = await bed.AddTopicAsync("pg-types-upsert", 1);
        await bed.WriteMappingAsync("events.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.hosts
            auto_create: true
            on_error: dead_letter
            columns:
              id:     { from: value.id, type: bigint }
              status: { from: value.status, type: enum(order_status) }
              addr:   { from: value.addr, type: inet }
              net:    { from: value.net, type: cidr, nullable: true }
              mac:    { from: value.mac, type: macaddr, nullable: true }
              took:   { from: value.took, type: interval, nullable: true }
              name:   { from: value.name, type: citext, nullable: true }
              span:   { from: value.span, type: int4range, nullable: true }
              amount: { from: value.amount, type: numeric, nullable: true }
              seen:   { from: value.seen, type: "inet[]", nullable: true }
            """);
        await bed.WriteMappingAsync("latest.yaml", $$"""
            topic: {{upsertTopic}}
            table: public.hosts_latest
            auto_create: true
            mode: upsert
            key: [addr]
            on_error: dead_letter
            columns:
              addr:   { from: value.addr, type: inet }
              status: { from: value.status, type: enum(order_status) }
              took:   { from: value.took, type: interval }
              amount: { from: value.amount, type: numeric }
              span:   { from: value.span, type: tstzrange, nullable: true }
            """);

        string[] good =
        [
            """{"id":1,"status":"new","addr":"2001:db8::1/64","net":"::/0","mac":"0800.2b01.0203","took":"P1M","name":"Alice","span":"[1,5]","amount":"NaN","seen":["10.0.0.1","::1"]}""",
            """{"id":2,"status":"it's \"done\"","addr":"10.0.0.1","took":2000000,"amount":1.50}""",
        ];
        (string Column, string Json, string Reason)[] bad =
        [
            ("net", """{"id":3,"status":"new","addr":"10.0.0.1","net":"10.1.2.3/8"}""", "bits are set to the right of the /8 prefix"),
            ("status", """{"id":4,"status":"shipped","addr":"10.0.0.1"}""", "not a label of enum order_status"),
            ("mac", """{"id":5,"status":"new","addr":"10.0.0.1","mac":"08:00:2b"}""", "is not a valid macaddr"),
            ("took", """{"id":6,"status":"new","addr":"10.0.0.1","took":"P1.5D"}""", "is not a valid interval"),
            ("span", """{"id":7,"status":"new","addr":"10.0.0.1","span":"[5,1)"}""", "lower bound is greater than the upper bound"),
            ("addr", """{"id":8,"status":"new","addr":"10.0.0.256"}""", "is not a valid inet"),
            ("amount", """{"id":9,"status":"new","addr":"10.0.0.1","amount":"12abc"}""", "is not a valid numeric"),
        ];
        await bed.ProduceAsync(bed.Topic, good.Concat(bad.Select(b => b.Json)).Select(json => (0, Json(json))));
        // One batch: the same host three times (10.0.0.1 and 10.0.0.1/32 are one inet), the last write wins.
        string[] changes =
        [
            """{"addr":"10.0.0.1","status":"new","took":"PT1H","amount":"1"}""",
            """{"addr":"::1","status":"new","took":"-P1D","amount":"0.1","span":"(,)"}""",
            """{"addr":"10.0.0.1/32","status":"in progress","took":"1 day 02:00:00","amount":"1.0"}""",
            """{"addr":"10.0.0.1","status":"bogus","took":"PT1H","amount":"2"}""",
            $$"""{"addr":"10.0.0.1","status":"it's \"done\"","took":"P1Y","amount":"{{s_thousandDigits}}","span":"[2024-01-01T00:00:00Z,2024-01-02T00:00:00Z)"}""",
        ];
        await bed.ProduceAsync(upsertTopic, changes.Select(json => (0, Json(json))));
        await bed.RunToCompletionAsync(good.Length + bad.Length + changes.Length);

        var hosts = await bed.QueryAsync(
            "SELECT format('%s|%s|%s|%s|%s|%s|%s|%s|%s', status, addr, net, mac, took, name, span, amount, seen) FROM public.hosts ORDER BY id", r => r.GetString(0));
        Assert.Equal(
            ["new|2001:db8::1/64|::/0|08:00:2b:01:02:03|1 mon|Alice|[1,6)|NaN|{10.0.0.1,::1}", "it's \"done\"|10.0.0.1|||00:00:02|||1.50|"],
            hosts);
        // citext compares without case, as the extension promises.
        Assert.Equal(1, await bed.ScalarAsync("SELECT count(*) FROM public.hosts WHERE name = 'ALICE'"));

        var letters = await bed.QueryAsync(
            $"SELECT error_message FROM sink.dead_letters WHERE topic = '{bed.Topic}' ORDER BY \"offset\"", r => r.GetString(0));
        Assert.Equal(bad.Length, letters.Count);
        Assert.All(bad.Zip(letters), pair =>
        {
            // The column by its source (each column here reads the field of its own name), as every conversion error does.
            Assert.StartsWith($"value.{pair.First.Column}: ", pair.Second, StringComparison.Ordinal);
            Assert.Contains(pair.First.Reason, pair.Second, StringComparison.Ordinal);
        });

        var latest = await bed.QueryAsync(
            """
            SELECT format('%s|%s|%s|%s|%s|%s|%s', addr, status, took, amount, lower(span) AT TIME ZONE 'UTC', upper(span) AT TIME ZONE 'UTC', isempty(span))
            FROM public.hosts_latest ORDER BY addr
            """, r => r.GetString(0));
        Assert.Equal(
            [$"10.0.0.1|it's \"done\"|1 year|{s_thousandDigits}|2024-01-01 00:00:00|2024-01-02 00:00:00|f", "::1|new|-1 days|0.1|||f"],
            latest);
        var upsertLetter = (await bed.QueryAsync($"SELECT error_message FROM sink.dead_letters WHERE topic = '{upsertTopic}'", r => r.GetString(0))).Single();
        Assert.Contains("'bogus' is not a label of enum order_status", upsertLetter, StringComparison.Ordinal);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
}
