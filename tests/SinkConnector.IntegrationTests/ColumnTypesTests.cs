using System.Text;
using Confluent.Kafka;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using SinkConnector.Schema;
using SinkConnector.Writing;

namespace SinkConnector.IntegrationTests;

/// <summary>Every column type a mapping can declare, from a JSON message through conversion and binary COPY into Postgres.</summary>
public class ColumnTypesTests(TestServices services)
{
    private static readonly (string Type, string Json, string Stored)[] s_columns =
    [
        ("text", "\"héllo, wörld\"", "héllo, wörld"),
        ("varchar(12)", "\"short\"", "short"),
        ("smallint", "-12", "-12"),
        ("integer", "2147483647", "2147483647"),
        ("bigint", "9007199254740993", "9007199254740993"),
        ("numeric(12,2)", "1234.5", "1234.50"),
        ("numeric", "12345678901234567890.123456789", "12345678901234567890.123456789"),
        ("real", "1.5", "1.5"),
        ("double precision", "2.25", "2.25"),
        ("boolean", "true", "true"),
        ("uuid", "\"6f1c2d3e-4b5a-4c7d-8e9f-a0b1c2d3e4f5\"", "6f1c2d3e-4b5a-4c7d-8e9f-a0b1c2d3e4f5"),
        ("date", "\"2024-02-29\"", "2024-02-29"),
        ("time", "\"10:11:12.5\"", "10:11:12.5"),
        ("timestamp", "\"2024-03-01T10:11:12.25\"", "2024-03-01 10:11:12.25"),
        ("timestamptz", "\"2024-03-01T10:11:12+02:00\"", "2024-03-01 08:11:12+00"),
        ("jsonb", "{\"b\": [1, 2], \"a\": null}", "{\"a\": null, \"b\": [1, 2]}"),
        ("json", "{\"b\":1}", "{\"b\":1}"),
        ("bytea", "\"AQID\"", "\\x010203"),
        ("text[]", "[\"a\", \"b c\"]", "{a,\"b c\"}"),
        ("bigint[]", "[1, 2]", "{1,2}"),
        ("numeric(5,1)[]", "[1.25, 2]", "{1.3,2.0}"),
        ("uuid[]", "[\"6f1c2d3e-4b5a-4c7d-8e9f-a0b1c2d3e4f5\"]", "{6f1c2d3e-4b5a-4c7d-8e9f-a0b1c2d3e4f5}"),
        ("timestamptz[]", "[\"2024-03-01T10:11:12Z\"]", "{\"2024-03-01 10:11:12+00\"}"),
    ];

    [Fact]
    public async Task Every_column_type_converts_and_copies_into_its_postgres_column()
    {
        var connectionString = await services.Postgres.CreateDatabaseAsync("column_types", Ct);
        await using var connection = new NpgsqlConnection(connectionString + ";Timezone=UTC");
        await connection.OpenAsync(Ct);
        var columns = s_columns.Select((c, i) => new ColumnMapping($"c{i}", Path($"value.c{i}"), ColumnType.Parse(c.Type), Nullable: true, Default: null)).ToList();
        await using (var create = new NpgsqlCommand(
            $"CREATE TABLE public.column_types (row_id int, {string.Join(", ", columns.Select(c => $"{c.Name} {c.Type.SqlName}"))})", connection))
        {
            await create.ExecuteNonQueryAsync(Ct);
        }

        var mapping = new MappingConfig
        {
            Name = "column_types",
            File = "mappings/column_types.yaml",
            Topics = ["types"],
            Table = new TableName("public", "column_types"),
            Format = MessageFormat.Json,
            Columns = [new ColumnMapping("row_id", Path("value.row_id"), ColumnType.Parse("integer"), false, null), .. columns],
        };
        var converter = new MessageConverter(mapping);
        var values = s_columns.Select((c, i) => $"\"c{i}\": {c.Json}");
        var rows = new[] { $"{{\"row_id\": 1, {string.Join(", ", values)}}}", "{\"row_id\": 2}" }.Select(json =>
        {
            var row = new object?[mapping.Columns.Count];
            Assert.Null(converter.TryConvertChange(Message(json), row, out _));
            return row;
        }).ToList();

        await RowCopier.CopyAsync(connection, Sql.Quote(mapping.Table), mapping, RowCopier.AllColumns(mapping), rows, Ct);

        var select = string.Join(", ", columns.Select(c => $"{c.Name}::text"));
        await using var query = new NpgsqlCommand($"SELECT {select} FROM public.column_types ORDER BY row_id", connection);
        await using var reader = await query.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct));
        var stored = columns.Select((c, i) => $"{s_columns[i].Type}: {reader.GetString(i)}").ToList();
        Assert.Equal(s_columns.Select(c => $"{c.Type}: {c.Stored}"), stored);
        Assert.True(await reader.ReadAsync(Ct));
        Assert.All(Enumerable.Range(0, columns.Count), i => Assert.True(reader.IsDBNull(i), $"{s_columns[i].Type} should be NULL"));
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
