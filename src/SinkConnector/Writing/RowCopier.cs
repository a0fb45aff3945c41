using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using SinkConnector.Schema;

namespace SinkConnector.Writing;

/// <summary>Binary COPY of converted rows into a mapping's table: the hot path.</summary>
public static class RowCopier
{
    /// <summary>
    /// Copies the rows of <paramref name="changes"/> (all columns) into <paramref name="quotedTable"/>; returns how many.
    /// Rows the conversion already encoded (<see cref="RowChange.Encoded"/>) are streamed as they are; the others are encoded here.
    /// </summary>
    /// <remarks>
    /// Columns <c>from: now()</c> go last in COPY's column list: conversion encodes every other field ahead of time
    /// (with the full field count) and each tuple gets the transaction's time appended here, read once per COPY.
    /// </remarks>
    public static async Task<int> CopyAsync(
        NpgsqlConnection connection, string quotedTable, MappingConfig mapping, IEnumerable<RowChange> changes, CancellationToken cancellationToken)
    {
        var computed = NowColumns(mapping);
        var encoder = new CopyRowEncoder(mapping, [.. AllColumns(mapping).Except(computed)]);
        var now = computed.Length == 0 ? default : await TransactionTimeAsync(connection, cancellationToken);
        await using var copy = await CopyStream.BeginAsync(connection, quotedTable, mapping, CopyOrder(mapping), cancellationToken);
        foreach (var change in changes)
        {
            if (change.Merged is { } merged)
            {
                copy.Buffer.Write(merged);
            }
            else if (change.Encoded is { } encoded)
            {
                copy.Buffer.Write(encoded.Tuple);
            }
            else
            {
                encoder.Encode(change.Values, copy.Buffer, computed.Length);
            }

            foreach (var column in computed)
            {
                CopyRowEncoder.WriteField(copy.Buffer, now, mapping.Columns[column].Type);
            }

            await copy.RowWrittenAsync(cancellationToken);
        }

        return await copy.CompleteAsync(cancellationToken);
    }

    /// <summary>Copies the <paramref name="columns"/> (indexes into the mapping's columns) of each row into <paramref name="quotedTable"/>.</summary>
    public static async Task<int> CopyAsync(
        NpgsqlConnection connection, string quotedTable, MappingConfig mapping, int[] columns, IEnumerable<object?[]> rows, CancellationToken cancellationToken)
    {
        var encoder = new CopyRowEncoder(mapping, columns);
        await using var copy = await CopyStream.BeginAsync(connection, quotedTable, mapping, columns, cancellationToken);
        foreach (var values in rows)
        {
            encoder.Encode(values, copy.Buffer);
            await copy.RowWrittenAsync(cancellationToken);
        }

        return await copy.CompleteAsync(cancellationToken);
    }

    public static int[] AllColumns(MappingConfig mapping) => [.. Enumerable.Range(0, mapping.Columns.Count)];

    /// <summary>The columns in the order the full-row COPY names them: those from now() last.</summary>
    public static int[] CopyOrder(MappingConfig mapping) => [.. AllColumns(mapping).Except(NowColumns(mapping)), .. NowColumns(mapping)];

    private static int[] NowColumns(MappingConfig mapping) =>
        [.. AllColumns(mapping).Where(i => mapping.Columns[i].From.Kind == SourceKind.Now)];

    /// <summary>Postgres's now(): the start of the transaction, the same for every statement in it.</summary>
    private static async Task<DateTime> TransactionTimeAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT now()", connection);
        return (DateTime)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// A raw binary COPY: tuples gather in a buffer that goes to Npgsql in large writes. It joins the connection's open
    /// transaction, so rows and offsets commit or vanish together.
    /// </summary>
    private sealed class CopyStream(NpgsqlRawCopyStream stream) : IAsyncDisposable
    {
        private const int FlushBytes = 64 * 1024;
        private int _rows;
        private bool _completed;

        public CopyBuffer Buffer { get; } = new(FlushBytes + 4096);

        public static async Task<CopyStream> BeginAsync(NpgsqlConnection connection, string quotedTable, MappingConfig mapping, int[] columns, CancellationToken cancellationToken)
        {
            var names = string.Join(", ", columns.Select(i => Sql.Quote(mapping.Columns[i].Name)));
            var copy = new CopyStream(await connection.BeginRawBinaryCopyAsync($"COPY {quotedTable} ({names}) FROM STDIN (FORMAT BINARY)", cancellationToken));
            copy.Buffer.Write(CopyRowEncoder.Header);
            return copy;
        }

        public async ValueTask RowWrittenAsync(CancellationToken cancellationToken)
        {
            _rows++;
            if (Buffer.Length >= FlushBytes)
            {
                await stream.WriteAsync(Buffer.WrittenMemory, cancellationToken);
                Buffer.Clear();
            }
        }

        /// <summary>Sends the rest and ends the COPY; a row Postgres rejects throws here.</summary>
        public async Task<int> CompleteAsync(CancellationToken cancellationToken)
        {
            Buffer.Write(CopyRowEncoder.Trailer);
            await stream.WriteAsync(Buffer.WrittenMemory, cancellationToken);
            _completed = true;
            await stream.DisposeAsync();
            return _rows;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_completed)
            {
                // Disposing the stream would end the COPY with what was sent so far. Only an exception gets here, and
                // when it broke the connection the COPY is already over: cancelling then fails too, and that failure
                // must not replace the first one (a terminated backend is transient and retried; this would not be).
                try
                {
                    await stream.CancelAsync();
                }
                catch (Exception e) when (e is ObjectDisposedException or NpgsqlException)
                {
                }
            }

            await stream.DisposeAsync();
        }
    }
}
