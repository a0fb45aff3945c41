using Npgsql;
using NpgsqlTypes;
using SinkConnector.Configuration;

namespace SinkConnector.Postgres;

/// <summary>Binary COPY of converted rows into a mapping's table: the hot path.</summary>
public static class RowCopier
{
    /// <summary>Copies <paramref name="rows"/> (values in the order of the mapping's columns) into its table; returns how many.</summary>
    public static Task<int> CopyAsync(NpgsqlConnection connection, MappingConfig mapping, IEnumerable<object?[]> rows, CancellationToken cancellationToken) =>
        CopyAsync(connection, Sql.Quote(mapping.Table), mapping, [.. Enumerable.Range(0, mapping.Columns.Count)], rows, cancellationToken);

    /// <summary>Copies the <paramref name="columns"/> (indexes into the mapping's columns) of each row into <paramref name="quotedTable"/>.</summary>
    public static async Task<int> CopyAsync(
        NpgsqlConnection connection, string quotedTable, MappingConfig mapping, int[] columns, IEnumerable<object?[]> rows, CancellationToken cancellationToken)
    {
        var types = columns.Select(i => mapping.Columns[i].Type.NpgsqlDbType).ToArray();
        var names = string.Join(", ", columns.Select(i => Sql.Quote(mapping.Columns[i].Name)));
        var count = 0;
        // The importer joins the connection's open transaction: rows and offsets commit or vanish together.
        await using var importer = await connection.BeginBinaryImportAsync($"COPY {quotedTable} ({names}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var values in rows)
        {
            await importer.StartRowAsync(cancellationToken);
            for (var c = 0; c < columns.Length; c++)
            {
                await WriteValueAsync(importer, values[columns[c]], types[c], cancellationToken);
            }

            count++;
        }

        await importer.CompleteAsync(cancellationToken);
        return count;
    }

    /// <summary>
    /// Writes the common CLR types through Npgsql's generic overload: given as object, Npgsql resolves the value's
    /// type again for every value, which showed in the sink's profile; the bytes written are the same.
    /// </summary>
    private static Task WriteValueAsync(NpgsqlBinaryImporter importer, object? value, NpgsqlDbType type, CancellationToken cancellationToken) => value switch
    {
        null => importer.WriteNullAsync(cancellationToken),
        string text => importer.WriteAsync(text, type, cancellationToken),
        long number => importer.WriteAsync(number, type, cancellationToken),
        int number => importer.WriteAsync(number, type, cancellationToken),
        short number => importer.WriteAsync(number, type, cancellationToken),
        decimal number => importer.WriteAsync(number, type, cancellationToken),
        double number => importer.WriteAsync(number, type, cancellationToken),
        float number => importer.WriteAsync(number, type, cancellationToken),
        bool flag => importer.WriteAsync(flag, type, cancellationToken),
        Guid uuid => importer.WriteAsync(uuid, type, cancellationToken),
        DateTime time => importer.WriteAsync(time, type, cancellationToken),
        DateOnly date => importer.WriteAsync(date, type, cancellationToken),
        TimeOnly time => importer.WriteAsync(time, type, cancellationToken),
        byte[] bytes => importer.WriteAsync(bytes, type, cancellationToken),
        _ => importer.WriteAsync(value, type, cancellationToken), // arrays
    };

    private const string DeadLetterColumns =
        "mapping, topic, partition, \"offset\", kafka_timestamp, key, value, headers, error_kind, error_message";

    public static async Task CopyDeadLettersAsync(NpgsqlConnection connection, string schema, IEnumerable<DeadLetter> deadLetters, CancellationToken cancellationToken)
    {
        await using var importer = await connection.BeginBinaryImportAsync(
            $"COPY {Sql.Table(schema, "dead_letters")} ({DeadLetterColumns}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var d in deadLetters)
        {
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(d.Mapping, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(d.Topic, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(d.Partition, NpgsqlDbType.Integer, cancellationToken);
            await importer.WriteAsync(d.Offset, NpgsqlDbType.Bigint, cancellationToken);
            await WriteNullableAsync(importer, d.KafkaTimestamp, NpgsqlDbType.TimestampTz, cancellationToken);
            await WriteNullableAsync(importer, d.Key, NpgsqlDbType.Bytea, cancellationToken);
            await WriteNullableAsync(importer, d.Value, NpgsqlDbType.Bytea, cancellationToken);
            await WriteNullableAsync(importer, d.Headers, NpgsqlDbType.Jsonb, cancellationToken);
            await importer.WriteAsync(d.ErrorKind, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(d.ErrorMessage, NpgsqlDbType.Text, cancellationToken);
        }

        await importer.CompleteAsync(cancellationToken);
    }

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, type, cancellationToken);
}
