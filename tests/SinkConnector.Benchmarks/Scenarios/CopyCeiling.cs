using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace SinkConnector.Benchmarks.Scenarios;

/// <summary>
/// Ceiling (a): the rows already in memory as typed values, binary COPY into the same table, one connection, one
/// COPY and commit per batch of the same size; no Kafka, no parsing. (a') does the same for upsert the way the sink
/// does it: last change per id, COPY into a temporary staging table, INSERT ... SELECT ... ON CONFLICT DO UPDATE.
/// </summary>
public static class CopyCeiling
{
    public static async Task<Measurement> RunAsync(BenchEnvironment env, string scenario, int repetition, OrderWorkload workload, bool upsert)
    {
        await using var connection = new NpgsqlConnection(env.Database.ConnectionString);
        await connection.OpenAsync();
        var latencies = new List<double>();
        var cpuAtStart = env.CpuNow();
        var started = Stopwatch.GetTimestamp();
        foreach (var chunk in workload.Events.Chunk(env.Options.BatchRows))
        {
            var batchStarted = Stopwatch.GetTimestamp();
            await using var transaction = await connection.BeginTransactionAsync();
            if (upsert)
            {
                var last = new Dictionary<long, OrderEvent>();
                foreach (var e in chunk)
                {
                    last[e.Id] = e;
                }

                await ExecuteAsync(connection, $"CREATE TEMP TABLE bench_stage ON COMMIT DROP AS SELECT {BenchDatabase.Columns} FROM {BenchDatabase.UpsertTable} WITH NO DATA");
                await CopyAsync(connection, "bench_stage", last.Values);
                await ExecuteAsync(connection,
                    $"""
                    INSERT INTO {BenchDatabase.UpsertTable} ({BenchDatabase.Columns}) SELECT {BenchDatabase.Columns} FROM bench_stage
                    ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, amount = EXCLUDED.amount, currency = EXCLUDED.currency,
                      status = EXCLUDED.status, created_at = EXCLUDED.created_at, note = EXCLUDED.note
                    """);
            }
            else
            {
                await CopyAsync(connection, BenchDatabase.InsertTable, chunk);
            }

            await transaction.CommitAsync();
            latencies.Add(Stopwatch.GetElapsedTime(batchStarted).TotalMilliseconds);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var cpuAtEnd = env.CpuNow();
        return new Measurement(scenario, workload.Events.Count, repetition, elapsed)
        {
            CommitMilliseconds = latencies,
            BenchCpu = cpuAtEnd.Bench - cpuAtStart.Bench,
            PostgresCpu = cpuAtEnd.Postgres - cpuAtStart.Postgres,
        };
    }

    /// <summary>Typed, synchronous writes: no boxing, no per-value task; the fastest way Npgsql offers.</summary>
    public static async Task CopyAsync(NpgsqlConnection connection, string table, IEnumerable<OrderEvent> rows)
    {
        await using var importer = await connection.BeginBinaryImportAsync($"COPY {table} ({BenchDatabase.Columns}) FROM STDIN (FORMAT BINARY)");
        foreach (var e in rows)
        {
            importer.StartRow();
            importer.Write(e.Id, NpgsqlDbType.Bigint);
            importer.Write(e.CustomerId, NpgsqlDbType.Uuid);
            importer.Write(e.Amount, NpgsqlDbType.Numeric);
            importer.Write(e.Currency, NpgsqlDbType.Text);
            importer.Write(e.Status, NpgsqlDbType.Text);
            importer.Write(e.CreatedAt, NpgsqlDbType.TimestampTz);
            importer.Write(e.Note, NpgsqlDbType.Text);
        }

        await importer.CompleteAsync();
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
