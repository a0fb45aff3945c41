using System.Diagnostics;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SinkConnector.Benchmarks.Scenarios;
using SinkConnector.Configuration;
using SinkConnector.Engine;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using SinkConnector.Schema;
using SinkConnector.Writing;

namespace SinkConnector.Benchmarks;

/// <summary>One line of the profile: a piece of the sink's work measured alone, in this process.</summary>
public sealed record ProfileLine(string What, double? RowsPerSecond, double? BytesPerMessage, string Note);

/// <summary>Everything the profile phase found.</summary>
public sealed record ProfileResult(IReadOnlyList<ProfileLine> Lines, IReadOnlyList<(string Variant, Measurement Run)> Variants, IReadOnlyList<PerfBreakdown> Perf);

/// <summary>
/// Where the sink's time and allocations go, measured piece by piece on the large workload: the whole
/// <see cref="ConsumerLoop"/> in this process (allocations, GC pauses), the product's converter alone (messages
/// already in memory), the product's COPY and upsert writers alone next to the typed code of the ceilings (converted
/// rows in memory), the consumer alone; then `sink run` with the runtime's tiered compilation off (one run per mode),
/// and with <c>--perf</c> a CPU profile of `sink run` per mode.
/// </summary>
public static class Profiler
{
    private const int Passes = 3;

    /// <summary>The runtime setting whose effect the profile measures: every method compiled once, fully optimized.</summary>
    /// <summary>JIT settings tried on the sink (one run each): with PGO's instrumented tier (the sink turns it off); without tiering at all.</summary>
    private static readonly string[] s_runtimeVariants = ["DOTNET_TieredPGO=1", "DOTNET_TieredCompilation=0"];

    public static async Task<ProfileResult> RunAsync(BenchEnvironment env, OrderWorkload workload)
    {
        Console.WriteLine("==> profile (large workload)");
        var lines = new List<ProfileLine>
        {
            await InProcessSinkAsync(env, workload, upsertMode: false),
            await InProcessSinkAsync(env, workload, upsertMode: true),
        };
        lines.AddRange(await PiecesAsync(env, workload));
        lines.Add(ConsumeAllocations(env, workload));
        foreach (var line in lines)
        {
            Console.WriteLine($"    {line.What}: {line.RowsPerSecond:N0} rows/s, {line.BytesPerMessage:N0} B/msg {line.Note}");
        }

        var variants = new List<(string, Measurement)>();
        foreach (var variant in s_runtimeVariants)
        {
            foreach (var scenario in new[] { Benchmarks.Scenario.Sink, Benchmarks.Scenario.SinkUpsert })
            {
                await env.Database.ResetAsync();
                var parts = variant.Split('=');
                var run = await SinkEndToEnd.RunAsync(env, scenario, 0, workload, Benchmarks.Scenario.IsUpsert(scenario),
                    new Dictionary<string, string> { [parts[0]] = parts[1] }, tag: "-" + parts[0].ToLowerInvariant());
                await env.Database.VerifyAsync(scenario, workload);
                variants.Add((variant, run));
                Console.WriteLine($"    {Benchmarks.Scenario.Short(scenario)} with {variant}: {run.RowsPerSecond:N0} rows/s, sink CPU {run.SinkCpu:F1} s, startup {run.Startup?.TotalSeconds:F1} s");
            }
        }

        var perf = await PerfAsync(env, workload);
        return new ProfileResult(lines, variants, perf);
    }

    /// <summary>
    /// <c>--perf</c>: a perf CPU profile of `sink run` per mode. With <c>--no-profile</c> it runs alone, so a change's
    /// effect on the sink's CPU by component takes a few minutes to see instead of the whole profile.
    /// </summary>
    public static async Task<List<PerfBreakdown>> PerfAsync(BenchEnvironment env, OrderWorkload workload)
    {
        var perf = new List<PerfBreakdown>();
        if (env.Options.Perf)
        {
            if (!PerfProfile.Available())
            {
                Console.WriteLine("    --perf: perf is not installed (apt-get install linux-perf); skipped");
            }
            else
            {
                foreach (var scenario in new[] { Benchmarks.Scenario.Sink, Benchmarks.Scenario.SinkUpsert }.Where(env.Options.Scenarios.Contains))
                {
                    try
                    {
                        await env.Database.ResetAsync();
                        var breakdown = await PerfProfile.RecordAsync(env, workload, scenario);
                        await env.Database.VerifyAsync(scenario, workload);
                        perf.Add(breakdown);
                        Console.WriteLine($"    perf {Benchmarks.Scenario.Short(scenario)}: {breakdown.Samples} samples; top: {breakdown.Categories[0].Category}");
                    }
                    catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
                    {
                        Console.WriteLine($"    perf {Benchmarks.Scenario.Short(scenario)} failed, left out of the report: {e.Message}");
                    }
                }
            }
        }

        return perf;
    }

    /// <summary>The sink's pieces alone, on messages and rows built in memory (no broker), so nothing else competes.</summary>
    private static async Task<List<ProfileLine>> PiecesAsync(BenchEnvironment env, OrderWorkload workload)
    {
        var topic = env.Topic(workload);
        var insert = env.LoadConfig(env.WriteSinkConfig("profile-insert", topic, upsert: false)).Mappings[0];
        var upsert = env.LoadConfig(env.WriteSinkConfig("profile-upsert", topic, upsert: true)).Mappings[0];
        var messages = InMemoryMessages(workload, topic);
        var lines = new List<ProfileLine> { Convert(insert, messages), DeserializeDto(messages) };

        lines.Add(await CeilingAgainAsync(env, workload, upsert: false, "ceiling code (a) again, for the next line: typed synchronous COPY"));
        lines.Add(await WriteAsync(env, "product insert writer alone: RowCopier.CopyAsync (boxed values encoded by CopyRowEncoder, raw binary COPY)",
            insert, ConvertAll(insert, messages), upsertMode: false, workload));
        lines.Add(await CeilingAgainAsync(env, workload, upsert: true, "ceiling code (a') again, for the next line: typed staging COPY + ON CONFLICT"));
        lines.Add(await WriteAsync(env, "product upsert writer alone: UpsertWriter.WriteAsync (FinalChanges, staging COPY, ON CONFLICT)",
            upsert, ConvertAll(upsert, messages), upsertMode: true, workload));
        return lines;
    }

    private static async Task<ProfileLine> CeilingAgainAsync(BenchEnvironment env, OrderWorkload workload, bool upsert, string what)
    {
        var runs = new List<Measurement>();
        for (var i = 0; i < Passes; i++)
        {
            await env.Database.ResetAsync();
            runs.Add(await CopyCeiling.RunAsync(env, upsert ? Benchmarks.Scenario.CopyUpsert : Benchmarks.Scenario.Copy, 0, workload, upsert));
        }

        return new ProfileLine(what, Stats.Median(runs.Select(m => m.RowsPerSecond)), null,
            $"median of {Passes}; CPU µs/row: client {Stats.Median(runs.Select(m => m.BenchCpu * 1e6 / m.Messages)):F1}, " +
            $"Postgres {Stats.Median(runs.Select(m => m.PostgresCpu * 1e6 / m.Messages)):F1}");
    }

    /// <summary>The messages as the consumer hands them over, built in memory (no broker).</summary>
    private static List<ConsumeResult<byte[]?, byte[]?>> InMemoryMessages(OrderWorkload workload, string topic)
    {
        var offsets = new long[workload.Partitions];
        return [.. workload.Events.Select(e => new ConsumeResult<byte[]?, byte[]?>
        {
            Topic = topic,
            Partition = new Partition(e.Partition),
            Offset = new Offset(offsets[e.Partition]++),
            Message = new Message<byte[]?, byte[]?>
            {
                Key = OrderWorkload.Key(e),
                Value = OrderWorkload.Json(e),
                Timestamp = new Timestamp(e.CreatedAt, TimestampType.CreateTime),
            },
        })];
    }

    /// <summary>MessageConverter.TryEncode as BatchConverter calls it for a write: JSON to a binary COPY tuple.</summary>
    private static ProfileLine Convert(MappingConfig mapping, List<ConsumeResult<byte[]?, byte[]?>> messages)
    {
        var converter = new MessageConverter(mapping);
        var tuples = new CopyBuffer(64 * 1024);
        var (rate, bytes) = Measure(messages.Count, () =>
        {
            foreach (var message in messages)
            {
                if (tuples.Length > 60 * 1024)
                {
                    tuples.Clear();
                }

                if (converter.TryEncode(message, tuples, [], []) is { } error)
                {
                    throw new InvalidOperationException(error.ToString());
                }
            }
        });
        return new ProfileLine("product conversion alone: MessageConverter.TryEncode (JSON to a COPY tuple), 1 thread", rate, bytes,
            $"{1e6 / rate:F1} µs/msg; one Utf8JsonReader pass per message, typed values written straight into the tuple");
    }

    private static ProfileLine DeserializeDto(List<ConsumeResult<byte[]?, byte[]?>> messages)
    {
        var (rate, bytes) = Measure(messages.Count, () =>
        {
            foreach (var message in messages)
            {
                _ = JsonSerializer.Deserialize(message.Message.Value, OrderJsonContext.Default.OrderMessage);
            }
        });
        return new ProfileLine("for comparison: System.Text.Json source-generated DTO (what (c) and (d) use), 1 thread", rate, bytes, $"{1e6 / rate:F1} µs/msg");
    }

    private static (double RowsPerSecond, double BytesPerMessage) Measure(int count, Action pass)
    {
        pass(); // warm-up: JIT, tiered compilation
        var rates = new List<double>();
        var bytes = 0.0;
        for (var i = 0; i < Passes; i++)
        {
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var started = Stopwatch.GetTimestamp();
            pass();
            rates.Add(count / Stopwatch.GetElapsedTime(started).TotalSeconds);
            bytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)count;
        }

        return (Stats.Median(rates), bytes);
    }

    private static List<RowChange> ConvertAll(MappingConfig mapping, List<ConsumeResult<byte[]?, byte[]?>> messages)
    {
        var converter = new MessageConverter(mapping);
        var changes = new List<RowChange>(messages.Count);
        foreach (var message in messages)
        {
            var values = new object?[mapping.Columns.Count];
            _ = converter.TryConvertChange(message, values, out var kind);
            changes.Add(new RowChange(mapping, kind, values, message));
        }

        return changes;
    }

    /// <summary>The product's writer alone, batch by batch in transactions, one connection: Postgres plus the write path.</summary>
    private static async Task<ProfileLine> WriteAsync(
        BenchEnvironment env, string what, MappingConfig mapping, List<RowChange> changes, bool upsertMode, OrderWorkload workload)
    {
        var rates = new List<double>();
        var cpu = new List<(double Client, double Postgres)>();
        for (var i = 0; i < Passes; i++)
        {
            await env.Database.ResetAsync();
            await using var connection = new NpgsqlConnection(env.Database.ConnectionString);
            await connection.OpenAsync();
            var cpuAtStart = env.CpuNow();
            var started = Stopwatch.GetTimestamp();
            foreach (var batch in changes.Chunk(env.Options.BatchRows))
            {
                await using var transaction = await connection.BeginTransactionAsync();
                _ = upsertMode
                    ? await UpsertWriter.WriteAsync(connection, mapping, batch, CancellationToken.None)
                    : await RowCopier.CopyAsync(connection, Sql.Quote(mapping.Table), mapping, batch, CancellationToken.None);
                await transaction.CommitAsync();
            }

            rates.Add(changes.Count / Stopwatch.GetElapsedTime(started).TotalSeconds);
            var cpuAtEnd = env.CpuNow();
            cpu.Add(((cpuAtEnd.Bench - cpuAtStart.Bench) * 1e6 / changes.Count, (cpuAtEnd.Postgres - cpuAtStart.Postgres) * 1e6 / changes.Count));
            await env.Database.VerifyAsync(upsertMode ? Benchmarks.Scenario.SinkUpsert : Benchmarks.Scenario.Sink, workload);
        }

        return new ProfileLine(what, Stats.Median(rates), null,
            $"median of {Passes}; CPU µs/row: client {Stats.Median(cpu.Select(c => c.Client)):F1}, Postgres {Stats.Median(cpu.Select(c => c.Postgres)):F1}");
    }

    /// <summary>What Confluent.Kafka allocates per consumed message (the consume-only ceiling, measured again for GC).</summary>
    private static ProfileLine ConsumeAllocations(BenchEnvironment env, OrderWorkload workload)
    {
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var measurement = KafkaBatchLoop.Run(env, "profile-consume", 0, workload, write: null, commitToKafka: false);
        var bytes = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)workload.Events.Count;
        return new ProfileLine("Confluent.Kafka consume alone (in process, mock brokers in the same process)", measurement.RowsPerSecond, bytes,
            "ConsumeResult, Message, key and value byte[] per message");
    }

    /// <summary>The whole consumer loop of `sink run` in this process, for its allocations and GC pauses.</summary>
    private static async Task<ProfileLine> InProcessSinkAsync(BenchEnvironment env, OrderWorkload workload, bool upsertMode)
    {
        await env.Database.ResetAsync();
        var group = env.GroupId(upsertMode ? "profile-sink-upsert" : "profile-sink", workload, 0);
        var config = env.LoadConfig(env.WriteSinkConfig(group, env.Topic(workload), upsertMode));
        await using var database = new SinkDatabase(config.Connector.Postgres);
        using var consumer = new ConsumerLoop(config.Connector, database, new SinkWriter(config.Mappings, database), NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        GC.Collect();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var pauses = GC.GetTotalPauseDuration();
        int[] collections = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        var started = Stopwatch.GetTimestamp();
        var run = Task.Factory.StartNew(() => consumer.RunAsync(stop.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        var total = workload.Events.Count;
        while (await env.Database.ScalarAsync($"SELECT coalesce(sum(next_offset), 0) FROM sink.offsets WHERE group_id = '{group}'") < total)
        {
            if (run.IsCompleted)
            {
                await run;
                throw new InvalidOperationException("the in-process sink stopped early");
            }

            await Task.Delay(50);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var bytes = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)total;
        var paused = GC.GetTotalPauseDuration() - pauses;
        var gcs = string.Join("/", collections.Select((c, generation) => GC.CollectionCount(generation) - c));
        await stop.CancelAsync();
        await run;
        await env.Database.VerifyAsync(upsertMode ? Benchmarks.Scenario.SinkUpsert : Benchmarks.Scenario.Sink, workload);
        return new ProfileLine($"whole ConsumerLoop in process, mode {(upsertMode ? "upsert" : "insert")} (from start, incl. group join)",
            total / elapsed.TotalSeconds, bytes,
            $"GCs gen0/1/2: {gcs}; GC pauses {paused.TotalMilliseconds:F0} ms = {paused / elapsed:P1} of {elapsed.TotalSeconds:F1} s");
    }
}
