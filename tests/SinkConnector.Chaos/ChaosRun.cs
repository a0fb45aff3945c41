using System.Runtime.InteropServices;
using SinkConnector.Testing;

namespace SinkConnector.Chaos;

/// <summary>
/// One soak: a dedicated Postgres and Kafka (a throwaway broker or the mock cluster, see SoakKafka), three sinks, the steady producer and the fault schedule
/// side by side for the duration; then healing, zero lag, SIGTERM for all, and the checks.
/// </summary>
internal static class ChaosRun
{
    private static readonly TimeSpan s_zeroLagTimeout = TimeSpan.FromMinutes(3);

    public static async Task<int> RunAsync(ChaosOptions options)
    {
        var keep = options.ArtifactsDirectory is not null;
        var artifacts = options.ArtifactsDirectory ?? Directory.CreateTempSubdirectory($"sink-chaos-{options.Seed}-").FullName;
        Directory.CreateDirectory(artifacts);
        bool passed;
        using (var report = new Report(artifacts))
        {
            try
            {
                passed = await SoakAsync(options, report);
            }
            catch (Exception e)
            {
                // Whatever broke the harness (a server that would not start, a read-back that timed out), the run
                // has no verdict on the sink: say so, keep the artifacts, exit non-zero.
                report.Write($"\nharness error: {e}");
                report.Write($"VERDICT: FAIL (the soak could not run to the end) — seed {options.Seed}; artifacts in {artifacts}");
                return 1;
            }
        }

        if (passed && !keep)
        {
            Directory.Delete(artifacts, recursive: true);
        }

        return passed ? 0 : 1;
    }

    private static async Task<bool> SoakAsync(ChaosOptions options, Report report)
    {
        var total = (int)(options.Rate * options.Duration.TotalSeconds);
        var messages = Workload.Generate(options.Seed, total);
        var kafkaChoice = SoakKafka.Choose(options.Kafka);
        var plan = FaultPlan.Create(options.Seed, options.Duration, realBroker: kafkaChoice.Source == KafkaSource.LocalBroker);
        RunSummary.PrintHeader(options, kafkaChoice, report, messages, plan);

        if (PostgresSelection.FromEnvironment() is { CanStopAndStart: false } postgresChoice)
        {
            throw new InvalidOperationException(
                $"the soak restarts its own Postgres server, from local binaries ({postgresChoice.Reason}): unset {PostgresSelection.ExternalVariable} or install PostgreSQL");
        }

        await using var postgres = await PostgresServer.StartAsync();
        // A harness stopped by Ctrl+C or a CI timeout must not leave sinks or a Postgres server behind (a broker's
        // watchdog stops it once this process is gone). Done in the signal handler itself: on a signal the runtime
        // exits without unwinding to the disposals below.
        SinkFleet? running = null;
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => Abort());
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => Abort());
        var connectionString = await postgres.CreateDatabaseAsync("chaos");
        var database = new ChaosDatabase(connectionString);
        await database.ExecuteAsync(SoakSetup.TablesSql);
        var kafkaStart = System.Diagnostics.Stopwatch.StartNew();
        using var kafka = await KafkaTestCluster.StartAsync(kafkaChoice);
        await kafka.CreateTopicNamedAsync(Workload.EventsTopic, Workload.Partitions);
        await kafka.CreateTopicNamedAsync(Workload.AccountsTopic, Workload.Partitions);
        kafka.Mock?.SetGroupCoordinator(SoakSetup.GroupId, FaultPlan.Coordinator);
        // Beside the logs, so a failed run's artifacts hold everything needed to run one of its sinks by hand.
        var config = Path.Combine(report.ArtifactsDirectory, "config");
        SoakSetup.WriteConfig(config);
        var environment = new Dictionary<string, string>
        {
            ["KAFKA_BOOTSTRAP"] = kafka.BootstrapServers,
            ["SINK_POSTGRES"] = connectionString,
            ["SINK_LOG_LEVEL"] = "Information",
        };
        report.Write($"Postgres 127.0.0.1:{postgres.Port}; Kafka: {kafka.Description}, ready with its topics in {kafkaStart.Elapsed.TotalSeconds:0.0} s\n");

        var (migrateExit, migrateOutput) = await SinkProcess.RunToEndAsync(["migrate", "--config", config], environment);
        if (migrateExit != 0)
        {
            throw new InvalidOperationException($"sink migrate exited {migrateExit}:\n{migrateOutput}");
        }

        report.StartClock();
        await using var fleet = running = new SinkFleet(FaultPlan.Sinks, config, environment, report);

        var producer = new SteadyProducer(kafka.BootstrapServers, messages, options.Rate, report);
        var executor = new FaultExecutor(plan, fleet, postgres, database, kafka, report);
        report.Line($"producing {total} messages at {options.Rate}/s; faults from t+{FaultPlan.Warmup.TotalSeconds:0}s");
        await Task.WhenAll(producer.RunAsync(), executor.RunAsync());
        report.Line($"faults over: {RunSummary.Summarize(executor.Injected)}");
        report.Line($"producer done: {total - producer.Offsets.Count(o => o < 0)} of {total} acknowledged");

        fleet.EnsureAllRunning();
        var (log, lowWatermarks) = LogReader.ReadAll(kafka.BootstrapServers, messages);
        report.Line($"read back {log.Count} records from Kafka: the expected state is computed from them");
        var expected = ExpectedState.Compute(log);
        var zeroLag = await WaitForZeroLagAsync(database, expected, report);
        // Room for a late commit of a woken zombie to show up, if fencing let one through.
        await Task.Delay(TimeSpan.FromSeconds(2));
        report.Line("SIGTERM to all sinks (each must exit 0)");
        await fleet.StopAllAsync();
        if (kafka.LocalBroker is { } broker)
        {
            // Its folder goes with it: the log of its restarts (log recovery, start-up times) stays with the sinks' logs.
            await File.WriteAllTextAsync(Path.Combine(report.ArtifactsDirectory, "broker.log"), broker.LogTail("broker", int.MaxValue));
        }

        var checks = new List<CheckResult> { ProducerCheck.Run(messages, producer, log, lowWatermarks), LagCheck(zeroLag) };
        checks.AddRange(await new Verifier(database, expected).RunAsync());
        checks.Add(RunSummary.SinksCheck(fleet, report));
        return RunSummary.PrintVerdict(options, kafkaChoice, report, executor, fleet.Exits, checks);

        void Abort()
        {
            report.Write("\ninterrupted: killing the sinks and stopping Postgres; no verdict");
            running?.KillAll();
            postgres.StopNow();
        }
    }

    /// <summary>Zero lag: every partition's stored next offset (in Postgres) has reached the log end.</summary>
    private static async Task<bool> WaitForZeroLagAsync(ChaosDatabase database, ExpectedState expected, Report report)
    {
        var deadline = report.Elapsed + s_zeroLagTimeout;
        var lastPrint = TimeSpan.Zero;
        while (true)
        {
            long lag;
            var behind = new List<string>();
            try
            {
                var stored = await database.StoredOffsetsAsync(SoakSetup.GroupId);
                lag = expected.EndOffsets.Sum(e => e.Value - (stored.TryGetValue(e.Key, out var s) ? s.NextOffset ?? 0 : 0));
                behind.AddRange(expected.EndOffsets
                    .Where(e => (stored.TryGetValue(e.Key, out var s) ? s.NextOffset ?? 0 : 0) < e.Value)
                    .Select(e => stored.TryGetValue(e.Key, out var s)
                        ? $"{e.Key.Topic}[{e.Key.Partition}] at {s.NextOffset} of {e.Value} (epoch {s.Epoch}, last claimed by {s.Owner})"
                        : $"{e.Key.Topic}[{e.Key.Partition}] never claimed"));
            }
            catch (Npgsql.NpgsqlException e)
            {
                report.Line($"lag query failed ({e.Message}); retrying");
                lag = -1;
            }

            if (lag == 0)
            {
                report.Line("zero lag: every stored next offset is at its partition's log end");
                return true;
            }

            if (report.Elapsed > deadline)
            {
                report.Problem($"lag still {lag} messages {s_zeroLagTimeout.TotalMinutes:0} min after the faults ended (a stuck partition or sink): "
                    + string.Join("; ", behind));
                return false;
            }

            if (report.Elapsed - lastPrint > TimeSpan.FromSeconds(10))
            {
                lastPrint = report.Elapsed;
                report.Line($"waiting for zero lag: {lag} messages behind");
            }

            await Task.Delay(500);
        }
    }

    private static CheckResult LagCheck(bool zeroLag) =>
        new("zero lag", zeroLag, zeroLag ? "reached after the faults" : $"not reached within {s_zeroLagTimeout.TotalMinutes:0} min", []);
}
