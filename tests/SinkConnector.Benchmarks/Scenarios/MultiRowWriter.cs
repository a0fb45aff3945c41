using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Npgsql;

namespace SinkConnector.Benchmarks.Scenarios;

/// <summary>
/// Alternative (d): what the JDBC sinks do. Each batch is deserialized and written as multi-row
/// <c>INSERT ... VALUES (...), (...)</c> statements of <see cref="RowsPerStatement"/> rows (pgjdbc's
/// reWriteBatchedInserts rewrites a JDBC batch into statements of at most 128 rows), all statements of a batch sent
/// in one round trip and auto-prepared after repeated use (pgjdbc's prepareThreshold), in one transaction; the Kafka
/// offsets are committed to Kafka afterwards (at least once, as those sinks do). Upsert adds
/// <c>ON CONFLICT (id) DO UPDATE</c>; the batch is reduced to the last change per id first, as the sink does, since
/// one statement must not touch a row twice.
/// </summary>
public sealed class MultiRowWriter : IAsyncDisposable
{
    public const int RowsPerStatement = 128;
    private const int ColumnCount = 7;

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _upsert;
    private readonly Dictionary<int, string> _sql = [];

    public MultiRowWriter(string connectionString, bool upsert)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 16, AutoPrepareMinUsages = 5 };
        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        _upsert = upsert;
    }

    public async Task WriteAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch)
    {
        IReadOnlyList<OrderMessage> messages = [.. batch.Select(r => JsonSerializer.Deserialize(r.Message.Value, OrderJsonContext.Default.OrderMessage)!)];
        if (_upsert)
        {
            var last = new Dictionary<long, OrderMessage>();
            foreach (var message in messages)
            {
                last[message.Id] = message;
            }

            messages = [.. last.Values];
        }

        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var statements = new NpgsqlBatch(connection, transaction);
        foreach (var chunk in messages.Chunk(RowsPerStatement))
        {
            var command = statements.CreateBatchCommand();
            command.CommandText = Sql(chunk.Length);
            foreach (var m in chunk)
            {
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = m.Id });
                command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = m.Customer.Id });
                command.Parameters.Add(new NpgsqlParameter<decimal> { TypedValue = m.Amount });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = m.Currency });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = m.Status });
                command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = m.CreatedAt.UtcDateTime });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = m.Note });
            }

            statements.BatchCommands.Add(command);
        }

        await statements.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
    }

    private string Sql(int rows)
    {
        if (_sql.TryGetValue(rows, out var sql))
        {
            return sql;
        }

        var text = new StringBuilder($"INSERT INTO {BenchDatabase.Table(_upsert)} ({BenchDatabase.Columns}) VALUES ");
        for (var r = 0; r < rows; r++)
        {
            text.Append(r == 0 ? "(" : ", (");
            for (var c = 0; c < ColumnCount; c++)
            {
                text.Append(c == 0 ? "$" : ", $").Append(r * ColumnCount + c + 1);
            }

            text.Append(')');
        }

        if (_upsert)
        {
            text.Append(" ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, amount = EXCLUDED.amount, ")
                .Append("currency = EXCLUDED.currency, status = EXCLUDED.status, created_at = EXCLUDED.created_at, note = EXCLUDED.note");
        }

        return _sql[rows] = text.ToString();
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
