using Npgsql;
using NpgsqlTypes;
using SinkConnector.Configuration;

namespace SinkConnector.Postgres;

/// <summary>Binary COPY of converted rows into a mapping's table: the hot path.</summary>
public static class RowCopier
{
    public static string CopyCommand(MappingConfig mapping) =>
        $"COPY {Sql.Quote(mapping.Table)} ({string.Join(", ", mapping.Columns.Select(c => Sql.Quote(c.Name)))}) FROM STDIN (FORMAT BINARY)";

    /// <summary>Copies <paramref name="rows"/> (values in the order of the mapping's columns); returns how many.</summary>
    public static async Task<int> CopyAsync(NpgsqlConnection connection, MappingConfig mapping, IEnumerable<object?[]> rows, CancellationToken cancellationToken)
    {
        var types = mapping.Columns.Select(c => c.Type.NpgsqlDbType).ToArray();
        var count = 0;
        // The importer joins the connection's open transaction: rows and offsets commit or vanish together.
        await using var importer = await connection.BeginBinaryImportAsync(CopyCommand(mapping), cancellationToken);
        foreach (var values in rows)
        {
            await importer.StartRowAsync(cancellationToken);
            for (var i = 0; i < values.Length; i++)
            {
                if (values[i] is null)
                {
                    await importer.WriteNullAsync(cancellationToken);
                }
                else
                {
                    await importer.WriteAsync(values[i], types[i], cancellationToken);
                }
            }

            count++;
        }

        await importer.CompleteAsync(cancellationToken);
        return count;
    }

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
