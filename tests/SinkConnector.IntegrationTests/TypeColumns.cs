using System.Text;
using Confluent.Kafka;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.PgBinary;
using SinkConnector.Schema;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// What the column-type tests share: a JSON mapping of one nullable column per type (<c>c0</c>, <c>c1</c>, ... after
/// <c>row_id</c>), a message as the consumer hands it to the converter, and each column as Postgres prints it.
/// </summary>
internal static class TypeColumns
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static MappingConfig JsonMapping(string schema, string table, IEnumerable<string> types, WriteMode mode = WriteMode.Insert, IReadOnlyList<string>? key = null) => new()
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

    /// <summary>A message to produce: <paramref name="json"/> as its value.</summary>
    public static Message<byte[]?, byte[]?> Json(string json) => new() { Value = Encoding.UTF8.GetBytes(json) };

    /// <summary>A consumed message of topic <c>types</c>, as the converter gets it.</summary>
    public static ConsumeResult<byte[]?, byte[]?> Message(string json) => new()
    {
        Topic = "types",
        Partition = 0,
        Offset = 1,
        Message = new Message<byte[]?, byte[]?> { Value = Encoding.UTF8.GetBytes(json), Timestamp = new Timestamp(DateTime.UtcNow) },
    };

    /// <summary>The columns after <c>row_id</c> of the row <paramref name="where"/> selects, as text.</summary>
    public static async Task<List<string?>> StoredAsync(NpgsqlConnection connection, MappingConfig mapping, string where)
    {
        // format() uses each type's output function, as psql shows it (inet::text would add /32 to a host address).
        var select = string.Join(", ", mapping.Columns.Skip(1).Select(c => $"format('%s', {c.Name})"));
        await using var query = new NpgsqlCommand($"SELECT {select} FROM {Sql.Quote(mapping.Table)} WHERE {where}", connection);
        await using var reader = await query.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct), $"no row where {where}");
        return [.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? null : reader.GetString(i))];
    }

    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private static SourcePath Path(string text) => SourcePath.TryParse(text, out var path, out var error) ? path! : throw new ArgumentException(error);
}
