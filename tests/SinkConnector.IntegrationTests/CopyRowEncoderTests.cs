using System.Globalization;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Failures;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using SinkConnector.Schema;
using SinkConnector.Writing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Differential tests of <see cref="CopyRowEncoder"/> (through <see cref="RowCopier"/>): for every column type and its
/// edge values, Postgres stores exactly what it stores when Npgsql's own <see cref="NpgsqlBinaryImporter"/> writes
/// the same CLR value.
/// </summary>
public class CopyRowEncoderTests(TestServices services)
{
    /// <summary>One value for one column type; <paramref name="Rejected"/>: Postgres must refuse it (both ways alike).</summary>
    private sealed record Case(string Type, object? Value, bool Rejected = false);

    private const int MixedRowCount = 5_000;

    private static readonly Guid s_fixedGuid = Guid.Parse("6f1c2d3e-4b5a-4c7d-8e9f-a0b1c2d3e4f5");

    private static IEnumerable<Case> Cases()
    {
        // -0m compiles to plain 0m; the two decimals built with isNegative are real negative zeros (scale 0 and 2).
        decimal[] numerics =
        [
            0m, -0m, new decimal(0, 0, 0, isNegative: true, scale: 0), new decimal(0, 0, 0, isNegative: true, scale: 2), 0.00m,
            1m, -1m, 12.50m, 1234.5m, 0.0001m, 0.00001m, 0.123456789m, 10000m, 100000000m, 9999.9999m,
            decimal.MaxValue, decimal.MinValue, 0.0000000000000000000000000001m, 79228162514264337593543950335m / 1e10m,
            -12345678901234567890.123456789m, 0.005m, -0.005m, 1.000000000000000000000000000m,
        ];
        foreach (var type in new[] { "numeric", "numeric(12,2)", "numeric(38,10)" })
        {
            foreach (var value in numerics)
            {
                yield return new Case(type, value, Rejected: !Fits(value, ColumnType.Parse(type)));
            }
        }

        foreach (var value in new long[] { long.MinValue, long.MaxValue, 0, -1 })
        {
            yield return new Case("bigint", value);
        }

        foreach (var value in new[] { int.MinValue, int.MaxValue, 0, -1 })
        {
            yield return new Case("integer", value);
        }

        foreach (var value in new short[] { short.MinValue, short.MaxValue, 0, -1 })
        {
            yield return new Case("smallint", value);
        }

        foreach (var value in new[] { 0f, -0.0f, 1.5f, float.MaxValue, float.MinValue, float.Epsilon, float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            yield return new Case("real", value);
        }

        foreach (var value in new[] { 0d, -0.0d, 1.5d, 0.1d, double.MaxValue, double.MinValue, double.Epsilon, double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        {
            yield return new Case("double precision", value);
        }

        yield return new Case("boolean", true);
        yield return new Case("boolean", false);

        foreach (var value in new[] { Guid.Empty, s_fixedGuid, new Guid([.. Enumerable.Repeat((byte)0xff, 16)]) })
        {
            yield return new Case("uuid", value);
        }

        foreach (var value in Times(DateTimeKind.Utc))
        {
            yield return new Case("timestamptz", value);
        }

        foreach (var value in Times(DateTimeKind.Unspecified))
        {
            yield return new Case("timestamp", value);
        }

        DateOnly[] dates = [new(2000, 1, 1), new(1999, 12, 31), DateOnly.MinValue.AddDays(1), DateOnly.MinValue, DateOnly.MaxValue, new(2024, 2, 29), new(1970, 1, 1)];
        foreach (var value in dates)
        {
            yield return new Case("date", value);
        }

        TimeOnly[] times = [TimeOnly.MinValue, TimeOnly.MaxValue, new(10, 11, 12, 500), new(new TimeOnly(10, 11, 12).Ticks + 7), new(15)];
        foreach (var value in times)
        {
            yield return new Case("time", value);
        }

        string[] texts = ["", "héllo, wörld", "😀 ok", "a\tb\nc\r\nd \\ e", "'quoted' \"double\""];
        foreach (var value in texts)
        {
            yield return new Case("text", value);
            yield return new Case("varchar(20)", value);
        }

        yield return new Case("text", string.Concat(Enumerable.Range(0, 10_000).Select(i => i % 100 == 99 ? 'é' : (char)('a' + (i % 26)))));
        yield return new Case("text", "nul\0byte", Rejected: true); // Postgres text cannot hold U+0000
        yield return new Case("varchar(20)", "exactly twenty chars");
        yield return new Case("text", "tab\there\nnew line\r\nand \\ backslash");
        yield return new Case("varchar(20)", "twenty emoji 😀😀😀😀😀😀😀"); // 20 characters, more UTF-16 units and bytes
        yield return new Case("varchar(20)", "twenty-five characters ok", Rejected: true);

        string[] jsons = ["{}", "{\"b\": [1, 2], \"a\": null}", "[1,2,3]", "\"x\"", "{\"outer\": {\"name\": \"wörld 😀\", \"list\": [{\"k\": \"\\u00fc\"}, 1.50, true]}}", "null", "12.50"];
        foreach (var value in jsons)
        {
            yield return new Case("json", value);
            yield return new Case("jsonb", value);
        }

        var random = new byte[100_000];
        new Random(20240301).NextBytes(random);
        foreach (var value in new[] { Array.Empty<byte>(), [0, 1, 2, 255], random })
        {
            yield return new Case("bytea", value);
        }

        yield return Elements("text[]", "a", "b c", "");
        yield return Elements<string>("text[]");
        yield return Elements("text[]", "NULL", "x,y", "\"q\"", "{}", "é😀");
        yield return Elements("varchar[]", "a", "héllo");
        yield return Elements("varchar(20)[]", "a", "héllo", "");
        yield return Elements("bigint[]", 1L, -2L);
        yield return Elements<long>("bigint[]");
        yield return Elements("integer[]", int.MinValue, 0, int.MaxValue);
        yield return Elements("smallint[]", short.MinValue, short.MaxValue);
        yield return Elements("numeric(5,1)[]", 1.25m, 2m);
        yield return Elements("numeric[]", 12.50m, -0.0001m, 0m, decimal.MaxValue);
        yield return Elements("real[]", 1.5f, float.NaN, float.NegativeInfinity);
        yield return Elements("double precision[]", 2.25, -0.0, double.PositiveInfinity);
        yield return Elements("boolean[]", true, false);
        yield return Elements("uuid[]", s_fixedGuid, Guid.Empty);
        yield return Elements("date[]", new DateOnly(2024, 2, 29), new DateOnly(1999, 12, 31));
        yield return Elements("time[]", new TimeOnly(10, 11, 12, 500), TimeOnly.MaxValue);
        yield return Elements("timestamp[]", new DateTime(2024, 3, 1, 10, 11, 12, 250), new DateTime(1999, 12, 31, 23, 59, 59).AddTicks(9_999_999));
        yield return Elements("timestamptz[]", new DateTime(2024, 3, 1, 10, 11, 12, 250, DateTimeKind.Utc), new DateTime(1999, 12, 31, 23, 59, 59, DateTimeKind.Utc).AddTicks(9_999_999));
        yield return Elements<DateTime>("timestamptz[]");

        foreach (var type in new[] { "text", "varchar(20)", "bigint", "integer", "numeric", "numeric(12,2)", "double precision", "boolean", "uuid", "timestamptz", "date", "time", "jsonb", "bytea", "text[]", "bigint[]" })
        {
            yield return new Case(type, null);
        }
    }

    /// <summary>An array case: a typed CLR array (T[]), as the array converters produce.</summary>
    private static Case Elements<T>(string type, params T[] items) => new(type, items);

    private static DateTime[] Times(DateTimeKind kind) =>
    [
        new(2000, 1, 1, 0, 0, 0, kind),
        new DateTime(1999, 12, 31, 23, 59, 59, kind).AddTicks(9_999_999), // 100 ns before the Postgres epoch
        new DateTime(1999, 12, 31, 23, 59, 59, kind).AddTicks(5), // sub-microsecond, before the epoch
        new(1970, 1, 1, 0, 0, 0, kind),
        new(1, kind),
        new DateTime(9999, 12, 31, 23, 59, 59, kind).AddTicks(9_999_990),
        DateTime.SpecifyKind(DateTime.MinValue, kind),
        DateTime.SpecifyKind(DateTime.MaxValue, kind),
        new DateTime(2024, 3, 1, 10, 11, 12, kind).AddTicks(7),
        new DateTime(2024, 3, 1, 10, 11, 12, kind).AddTicks(15),
    ];

    /// <summary>Whether numeric(p,s) holds the value once rounded to s places (half away from zero, as Postgres rounds).</summary>
    private static bool Fits(decimal value, ColumnType type)
    {
        if (type.Precision is not { } precision)
        {
            return true;
        }

        var scale = type.Scale ?? 0;
        var whole = decimal.Truncate(Math.Round(Math.Abs(value), scale, MidpointRounding.AwayFromZero));
        return (whole == 0 ? 0 : whole.ToString(CultureInfo.InvariantCulture).Length) <= precision - scale;
    }

    [Fact]
    public async Task Encoded_values_store_exactly_what_the_npgsql_importer_stores()
    {
        await using var connection = await OpenAsync("copy_encoder");
        var cases = Cases().ToList();
        var mappings = new Dictionary<string, MappingConfig>();
        var mismatches = new List<string>();
        for (var id = 0; id < cases.Count; id++)
        {
            var c = cases[id];
            if (!mappings.TryGetValue(c.Type, out var mapping))
            {
                mapping = Mapping($"t{mappings.Count}", [("row_id", "integer"), ("via", "text"), ("v", c.Type)]);
                await CreateTableAsync(connection, mapping);
                mappings[c.Type] = mapping;
            }

            var ours = await StoreAsync(connection, mapping, [id, "ours", c.Value], row =>
                RowCopier.CopyAsync(connection, Sql.Quote(mapping.Table), mapping, RowCopier.AllColumns(mapping), [row], Ct));
            var npgsql = await StoreAsync(connection, mapping, [id, "npgsql", c.Value], row => ImportAsync(connection, mapping, [row]));
            var problem =
                ours != npgsql ? "differs"
                : c.Rejected && !ours.StartsWith("rejected", StringComparison.Ordinal) ? "should have been rejected"
                : !c.Rejected && (ours.StartsWith("rejected", StringComparison.Ordinal) || ours.StartsWith("failed", StringComparison.Ordinal)) ? "failed both ways"
                : (c.Value is null) != (ours == "NULL") ? "NULL where a value was written, or the reverse"
                : null;
            if (problem is not null)
            {
                mismatches.Add($"{c.Type} {Describe(c.Value)}: {problem}; ours {Shorten(ours)}, npgsql {Shorten(npgsql)}");
            }
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {cases.Count} cases differ from Npgsql's importer:\n{string.Join('\n', mismatches)}");
    }

    /// <summary>Writes one (row_id, via, v) row with <paramref name="write"/>; returns v as Postgres stored it, as text, or the error.</summary>
    private static async Task<string> StoreAsync(NpgsqlConnection connection, MappingConfig mapping, object?[] row, Func<object?[], Task> write)
    {
        try
        {
            await write(row);
        }
        catch (PostgresException e)
        {
            return $"rejected {e.SqlState}";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return $"failed {e.GetType().Name}: {e.Message}";
        }

        await using var select = new NpgsqlCommand($"SELECT v::text FROM {Sql.Quote(mapping.Table)} WHERE row_id = $1 AND via = $2", connection)
        {
            Parameters = { new() { Value = row[0] }, new() { Value = row[1] } },
        };
        await using var reader = await select.ExecuteReaderAsync(Ct);
        return !await reader.ReadAsync(Ct) ? "no row" : await reader.IsDBNullAsync(0, Ct) ? "NULL" : $"'{reader.GetString(0)}'";
    }

    [Fact]
    public async Task Many_rows_crossing_the_flush_size_arrive_in_order_as_the_npgsql_importer_stores_them()
    {
        await using var connection = await OpenAsync("copy_encoder_rows");
        var mapping = Mapping("mixed",
        [
            ("row_id", "integer"), ("via", "text"), ("name", "text"), ("code", "varchar(20)"), ("amount", "numeric(12,2)"),
            ("exact", "numeric"), ("big", "bigint"), ("ratio", "double precision"), ("small", "real"), ("flag", "boolean"),
            ("at", "timestamptz"), ("local", "timestamp"), ("day", "date"), ("clock", "time"), ("id", "uuid"),
            ("tags", "text[]"), ("counts", "bigint[]"), ("doc", "jsonb"), ("blob", "bytea"),
        ]);
        // seq numbers rows as they arrive: the COPY leaves it out.
        await CreateTableAsync(connection, mapping, "seq bigint GENERATED ALWAYS AS IDENTITY");
        var random = new Random(7);
        var rows = Enumerable.Range(0, MixedRowCount).Select(i => MixedRow(random, i)).ToList();

        var encoded = new CopyBuffer();
        var encoder = new CopyRowEncoder(mapping, RowCopier.AllColumns(mapping));
        foreach (var row in rows)
        {
            encoder.Encode(row, encoded);
        }

        Assert.True(encoded.Length > 8 * 64 * 1024, $"only {encoded.Length} bytes: the rows must cross RowCopier's 64 KiB flush several times");

        var copied = await RowCopier.CopyAsync(
            connection, Sql.Quote(mapping.Table), mapping, RowCopier.AllColumns(mapping), rows.Select(r => (object?[])[r[0], "ours", .. r[2..]]), Ct);
        Assert.Equal(MixedRowCount, copied);
        await ImportAsync(connection, mapping, rows.Select(r => (object?[])[r[0], "npgsql", .. r[2..]]));

        var values = string.Join(", ", mapping.Columns.Skip(2).Select(c => $"coalesce({Sql.Quote(c.Name)}::text, 'NULL')"));
        await using var select = new NpgsqlCommand(
            $"SELECT concat_ws(' | ', row_id, {values}) FROM public.mixed WHERE via = $1 ORDER BY seq", connection);
        async Task<List<string>> StoredAsync(string via)
        {
            select.Parameters.Clear();
            select.Parameters.Add(new NpgsqlParameter { Value = via });
            await using var reader = await select.ExecuteReaderAsync(Ct);
            var stored = new List<string>();
            while (await reader.ReadAsync(Ct))
            {
                stored.Add(reader.GetString(0));
            }

            return stored;
        }

        var ours = await StoredAsync("ours");
        var npgsql = await StoredAsync("npgsql");
        Assert.Equal(MixedRowCount, ours.Count);
        Assert.Equal(Enumerable.Range(0, MixedRowCount).Select(i => i.ToString(CultureInfo.InvariantCulture)), ours.Select(r => r[..r.IndexOf(' ', StringComparison.Ordinal)]));
        Assert.Equal(npgsql, ours);
    }

    private static object?[] MixedRow(Random random, int i)
    {
        bool Null() => random.Next(10) == 0;
        var blob = new byte[i == MixedRowCount / 2 ? 100_000 : random.Next(200)]; // one row larger than a flush on its own
        random.NextBytes(blob);
        return
        [
            i,
            "via",
            Null() ? null : $"name {i} héllo 😀 {new string('x', random.Next(100))}",
            Null() ? null : $"c{random.Next(1_000_000)}",
            Null() ? null : Math.Round((decimal)random.NextDouble() * 2_000_000m - 1_000_000m, random.Next(3)),
            Null() ? null : (decimal)random.NextInt64() / (decimal)Math.Pow(10, random.Next(20)),
            Null() ? null : random.NextInt64(long.MinValue, long.MaxValue),
            Null() ? null : (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-300, 300)),
            Null() ? null : (float)(random.NextDouble() * 1e6),
            Null() ? null : random.Next(2) == 0,
            Null() ? null : new DateTime(random.NextInt64(DateTime.MinValue.Ticks + 1, DateTime.MaxValue.Ticks), DateTimeKind.Utc),
            Null() ? null : new DateTime(random.NextInt64(DateTime.MinValue.Ticks + 1, DateTime.MaxValue.Ticks), DateTimeKind.Unspecified),
            Null() ? null : DateOnly.FromDayNumber(random.Next(1, DateOnly.MaxValue.DayNumber)),
            Null() ? null : new TimeOnly(random.NextInt64(TimeOnly.MaxValue.Ticks)),
            Null() ? null : new Guid([.. Enumerable.Range(0, 16).Select(_ => (byte)random.Next(256))]),
            Null() ? null : Enumerable.Range(0, random.Next(4)).Select(k => $"t{k},{random.Next(100)}").ToArray(),
            Null() ? null : Enumerable.Range(0, random.Next(4)).Select(_ => random.NextInt64()).ToArray(),
            Null() ? null : $"{{\"i\": {i}, \"s\": \"wörld\", \"n\": [{random.Next()}, 1.50, null]}}",
            Null() ? null : blob,
        ];
    }

    [Theory]
    [InlineData(25, 1, "22001")] // value too long for varchar(20)
    [InlineData(5, -1, "23514")] // CHECK (n >= 0) violated
    public async Task A_rejected_row_throws_and_a_rolled_back_transaction_leaves_the_connection_usable(int length, int number, string sqlState)
    {
        await using var connection = await OpenAsync("copy_encoder_reject");
        var mapping = Mapping("rejects", [("row_id", "integer"), ("v", "varchar(20)"), ("n", "integer")]);
        await CreateTableAsync(connection, mapping, "CHECK (n >= 0)");
        var good = Enumerable.Range(0, 3).Select(i => new object?[] { i, "ok", i }).ToList();
        object?[] bad = [3, new string('x', length), number];

        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() =>
                RowCopier.CopyAsync(connection, Sql.Quote(mapping.Table), mapping, RowCopier.AllColumns(mapping), [.. good, bad, [4, "after", 4]], Ct));
            Assert.Equal(sqlState, error.SqlState);
            Assert.True(error.SqlState.StartsWith("22", StringComparison.Ordinal) || error.SqlState.StartsWith("23", StringComparison.Ordinal), error.SqlState);
            await transaction.RollbackAsync(Ct);
        }

        await using (var one = new NpgsqlCommand("SELECT 1", connection))
        {
            Assert.Equal(1, await one.ExecuteScalarAsync(Ct));
        }

        Assert.Equal(0L, await CountAsync());

        // The same connection copies again, and this time commits.
        await using (var transaction = await connection.BeginTransactionAsync(Ct))
        {
            Assert.Equal(good.Count, await RowCopier.CopyAsync(connection, Sql.Quote(mapping.Table), mapping, RowCopier.AllColumns(mapping), good, Ct));
            await transaction.CommitAsync(Ct);
        }

        Assert.Equal(good.Count, await CountAsync());

        async Task<long> CountAsync()
        {
            await using var command = new NpgsqlCommand("SELECT count(*) FROM public.rejects", connection);
            return (long)(await command.ExecuteScalarAsync(Ct))!;
        }
    }

    [Fact]
    public async Task A_backend_terminated_mid_copy_fails_the_copy_with_the_transient_error_not_one_from_cleaning_up()
    {
        await using var connection = await OpenAsync("copy_encoder_terminated");
        var mapping = Mapping("terminated", [("row_id", "integer"), ("v", "text")]);
        await CreateTableAsync(connection, mapping);
        await using var killer = new NpgsqlConnection(connection.ConnectionString);
        await killer.OpenAsync(Ct);

        // Well past the first flush, the copying backend is terminated (as pg_terminate_backend or a restart would).
        IEnumerable<object?[]> Rows()
        {
            for (var i = 0; i < 100_000; i++)
            {
                if (i == 20_000)
                {
                    using var terminate = new NpgsqlCommand($"SELECT pg_terminate_backend({connection.ProcessID})", killer);
                    terminate.ExecuteNonQuery();
                }

                yield return [i, "a row of text to fill the copy buffer"];
            }
        }

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var transaction = await connection.BeginTransactionAsync(Ct);
            await RowCopier.CopyAsync(connection, Sql.Quote(mapping.Table), mapping, RowCopier.AllColumns(mapping), Rows(), Ct);
        });
        // The batch writer retries what this says is transient; anything else would stop the sink.
        Assert.True(PostgresErrors.IsTransient(error), error.ToString());
    }

    /// <summary>Npgsql's own binary importer, writing each value with the column's <see cref="ColumnType.NpgsqlDbType"/>.</summary>
    private static async Task ImportAsync(NpgsqlConnection connection, MappingConfig mapping, IEnumerable<object?[]> rows)
    {
        var names = string.Join(", ", mapping.Columns.Select(c => Sql.Quote(c.Name)));
        await using var importer = await connection.BeginBinaryImportAsync($"COPY {Sql.Quote(mapping.Table)} ({names}) FROM STDIN (FORMAT BINARY)", Ct);
        foreach (var row in rows)
        {
            await importer.StartRowAsync(Ct);
            for (var i = 0; i < row.Length; i++)
            {
                if (row[i] is { } value)
                {
                    await importer.WriteAsync(value, mapping.Columns[i].Type.NpgsqlDbType, Ct);
                }
                else
                {
                    await importer.WriteNullAsync(Ct);
                }
            }
        }

        await importer.CompleteAsync(Ct);
    }

    private async Task<NpgsqlConnection> OpenAsync(string database)
    {
        var connectionString = await services.Postgres.CreateDatabaseAsync(database, Ct);
        var connection = new NpgsqlConnection(connectionString + ";Timezone=UTC");
        await connection.OpenAsync(Ct);
        return connection;
    }

    private static MappingConfig Mapping(string table, (string Name, string Type)[] columns) => new()
    {
        Name = table,
        File = $"mappings/{table}.yaml",
        Topics = ["types"],
        Table = new TableName("public", table),
        Format = MessageFormat.Json,
        Columns = [.. columns.Select(c => new ColumnMapping(c.Name, Path($"value.{c.Name}"), ColumnType.Parse(c.Type), Nullable: true, Default: null))],
    };

    private static async Task CreateTableAsync(NpgsqlConnection connection, MappingConfig mapping, string? extra = null)
    {
        var columns = mapping.Columns.Select(c => $"{Sql.Quote(c.Name)} {c.Type.SqlName}").Concat(extra is null ? [] : [extra]);
        await Sql.ExecuteAsync(connection, $"CREATE TABLE {Sql.Quote(mapping.Table)} ({string.Join(", ", columns)})", Ct);
    }

    private static string Describe(object? value) => value switch
    {
        null => "NULL",
        string text => text.Length > 40 ? $"string({text.Length} chars) \"{Escape(text[..40])}…\"" : $"\"{Escape(text)}\"",
        byte[] bytes => $"byte[{bytes.Length}]" + (bytes.Length <= 16 ? $" {Convert.ToHexString(bytes)}" : ""),
        decimal number => (decimal.IsNegative(number) && number == 0 ? "-" : "") + number.ToString(CultureInfo.InvariantCulture) + "m",
        float number => number.ToString("R", CultureInfo.InvariantCulture) + "f",
        double number => number.ToString("R", CultureInfo.InvariantCulture) + "d",
        DateTime time => $"{time:O} ({time.Kind}, {time.Ticks} ticks)",
        DateOnly date => date.ToString("O", CultureInfo.InvariantCulture),
        TimeOnly time => $"{time:O} ({time.Ticks} ticks)",
        Array array => $"{value.GetType().Name} {{{string.Join(", ", array.Cast<object?>().Select(Describe))}}}",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Escape(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\0", "\\0", StringComparison.Ordinal);

    private static string Shorten(string stored) => stored.Length > 120 ? $"{Escape(stored[..120])}… ({stored.Length} chars)" : Escape(stored);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SourcePath Path(string text) => SourcePath.TryParse(text, out var path, out var error) ? path! : throw new ArgumentException(error);
}
