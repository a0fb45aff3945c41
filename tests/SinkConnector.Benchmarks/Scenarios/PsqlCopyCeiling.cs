using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using SinkConnector.Testing;

namespace SinkConnector.Benchmarks.Scenarios;

/// <summary>
/// Ceiling (a"): the server's raw ingest rate without any client of ours: <c>psql</c>'s <c>\copy</c> of the same rows
/// as a CSV file (written before the clock starts) into the insert table, in one transaction. The window is what
/// psql's <c>\timing</c> reports for the COPY and the COMMIT, so psql's start and connection are not in it.
/// </summary>
public static partial class PsqlCopyCeiling
{
    public static async Task<Measurement> RunAsync(BenchEnvironment env, string scenario, int repetition, OrderWorkload workload)
    {
        var directory = Directory.CreateTempSubdirectory("sink-bench-psql-").FullName;
        try
        {
            var csv = Path.Combine(directory, "orders.csv");
            await WriteCsvAsync(csv, workload);
            var script = Path.Combine(directory, "copy.sql");
            // \copy's file name is a psql literal: single quotes doubled; the temp path has none in practice.
            await File.WriteAllTextAsync(script,
                $"""
                \timing on
                BEGIN;
                \copy {BenchDatabase.InsertTable} ({BenchDatabase.Columns}) FROM '{csv.Replace("'", "''", StringComparison.Ordinal)}' WITH (FORMAT csv)
                COMMIT;

                """);

            var connection = new NpgsqlConnectionStringBuilder(env.Database.ConnectionString);
            var info = new ProcessStartInfo(PostgresServer.Binary("psql"))
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in (string[])["-X", "-v", "ON_ERROR_STOP=1", "-h", connection.Host!, "-p", connection.Port.ToString(CultureInfo.InvariantCulture),
                         "-U", connection.Username!, "-d", connection.Database!, "-f", script])
            {
                info.ArgumentList.Add(arg);
            }

            var cpuAtStart = env.CpuNow();
            using var psql = Process.Start(info) ?? throw new InvalidOperationException("cannot start psql");
            var output = psql.StandardOutput.ReadToEndAsync();
            var errors = psql.StandardError.ReadToEndAsync();
            await psql.WaitForExitAsync();
            var cpuAtEnd = env.CpuNow();
            if (psql.ExitCode != 0)
            {
                throw new InvalidOperationException($"psql exited {psql.ExitCode}: {await errors}{await output}");
            }

            // BEGIN, COPY and COMMIT each print "Time: N ms"; BEGIN's is a client-side no-op round trip, counted too.
            var milliseconds = Timing().Matches(await output).Sum(m => double.Parse(m.Groups["ms"].Value, CultureInfo.InvariantCulture));
            return new Measurement(scenario, workload.Events.Count, repetition, TimeSpan.FromMilliseconds(milliseconds))
            {
                BenchCpu = cpuAtEnd.Bench - cpuAtStart.Bench,
                PostgresCpu = cpuAtEnd.Postgres - cpuAtStart.Postgres,
            };
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The rows as PostgreSQL's CSV format reads them: text quoted, numbers and the timestamp as the JSON has them.</summary>
    private static async Task WriteCsvAsync(string path, OrderWorkload workload)
    {
        await using var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 1 << 16);
        foreach (var e in workload.Events)
        {
            await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{e.Id},{e.CustomerId},{e.Amount:0.00},{Quote(e.Currency)},{Quote(e.Status)},{e.CreatedAt:yyyy-MM-ddTHH:mm:ss.fffZ},{Quote(e.Note)}"));
        }
    }

    private static string Quote(string text) => "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    [GeneratedRegex(@"^Time: (?<ms>[0-9.]+) ms", RegexOptions.Multiline)]
    private static partial Regex Timing();
}
