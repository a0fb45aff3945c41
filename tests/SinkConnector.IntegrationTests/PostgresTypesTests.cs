using System.Text;
using Confluent.Kafka;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using SinkConnector.Schema;
using SinkConnector.Writing;

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
        var mapping = Mapping("public", "pg_types", s_columns.Select(c => c.Type));
        await ExecuteAsync(connection, $"CREATE TABLE public.pg_types (row_id int, {string.Join(", ", mapping.Columns.Skip(1).Select(c => $"{c.Name} {c.Type.SqlName}"))})");
        // The startup check: the table fits the mapping, and the enum's labels are read for the converter.
        Assert.Empty(await TableInspector.CheckAsync(connection, mapping, Ct));

        var converter = new MessageConverter(mapping);
        var json = $"{{\"row_id\": 1, {string.Join(", ", s_columns.Select((c, i) => $"\"c{i}\": {c.Json}"))}}}";
        var values = new object?[mapping.Columns.Count];
        Assert.Null(converter.TryConvertChange(Message(json), values, out _));
        await RowCopier.CopyAsync(connection, Sql.Quote(mapping.Table), mapping, RowCopier.AllColumns(mapping), [values], Ct);

        var chunk = new EncodedChunk(1, json.Length);
        var encoded = Message(json.Replace("\"row_id\": 1", "\"row_id\": 2", StringComparison.Ordinal));
        Assert.Null(converter.TryEncode(encoded, chunk.Tuples, [], []));
        var row = chunk.Add(0, encoded.TopicPartition, encoded);
        await RowCopier.CopyAsync(connection, Sql.Quote(mapping.Table), mapping, [new RowChange(mapping, ChangeKind.Write, [], null) { Encoded = row }], Ct);

        foreach (var rowId in new[] { 1, 2 })
        {
            var stored = await StoredAsync(connection, mapping, $"row_id = {rowId}");
            var wrong = s_columns.Select((c, i) => (c.Type, c.Json, c.Stored, Actual: stored[i])).Where(c => c.Stored != c.Actual);
            Assert.Empty(wrong.Select(c => $"row {rowId}: {c.Type} from {c.Json}: expected {c.Stored}, stored {c.Actual}"));
        }
    }

    private static MappingConfig Mapping(string schema, string table, IEnumerable<string> types, WriteMode mode = WriteMode.Insert, IReadOnlyList<string>? key = null) => new()
    {
        Name = table,
        File = $"mappings/{table}.yaml",
        Topics = ["types"],
        Table = new TableName(schema, table),
        Format = MessageFormat.Json,
        Mode = mode,
        Key = key ?? [],
        Columns =
        [
            new ColumnMapping("row_id", Path("value.row_id"), ColumnType.Parse("integer"), false, null),
            .. types.Select((t, i) => new ColumnMapping($"c{i}", Path($"value.c{i}"), ColumnType.Parse(t), Nullable: true, Default: null)),
        ],
    };

    private static async Task<List<string?>> StoredAsync(NpgsqlConnection connection, MappingConfig mapping, string where)
    {
        // format() uses each type's output function, as psql shows it (inet::text would add /32 to a host address).
        var select = string.Join(", ", mapping.Columns.Skip(1).Select(c => $"format('%s', {c.Name})"));
        await using var query = new NpgsqlCommand($"SELECT {select} FROM {Sql.Quote(mapping.Table)} WHERE {where}", connection);
        await using var reader = await query.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct), $"no row where {where}");
        return [.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? null : reader.GetString(i))];
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SourcePath Path(string text) => SourcePath.TryParse(text, out var path, out var error) ? path! : throw new ArgumentException(error);

    private static ConsumeResult<byte[]?, byte[]?> Message(string json) => new()
    {
        Topic = "types",
        Partition = 0,
        Offset = 1,
        Message = new Message<byte[]?, byte[]?> { Value = Encoding.UTF8.GetBytes(json), Timestamp = new Timestamp(DateTime.UtcNow) },
    };
}
