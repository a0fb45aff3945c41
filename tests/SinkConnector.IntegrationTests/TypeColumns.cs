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

    /// <summary>
    /// Row 1 by the converted values (replays, upsert staging), row 2 by the single-pass encoder (the batch converter's
    /// path), both by binary COPY; then each column of both rows must read as its <c>Stored</c> text.
    /// </summary>
    public static async Task CopyByValueAndByEncoderAsync(NpgsqlConnection connection, MappingConfig mapping, (string Type, string Json, string Stored)[] columns)
    {
        var converter = new MessageConverter(mapping);
        var json = $"{{\"row_id\": 1, {string.Join(", ", columns.Select((c, i) => $"\"c{i}\": {c.Json}"))}}}";
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
            var wrong = columns.Select((c, i) => (c.Type, c.Json, c.Stored, Actual: stored[i])).Where(c => c.Stored != c.Actual);
            Assert.Empty(wrong.Select(c => $"row {rowId}: {c.Type} from {c.Json}: expected {c.Stored}, stored {c.Actual}"));
        }
    }

    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private static SourcePath Path(string text) => SourcePath.TryParse(text, out var path, out var error) ? path! : throw new ArgumentException(error);
}
