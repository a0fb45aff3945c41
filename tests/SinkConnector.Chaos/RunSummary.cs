using SinkConnector.Testing;

namespace SinkConnector.Chaos;

/// <summary>The report's header (what will run, how to reproduce it) and its end (exits, checks, verdict).</summary>
internal static class RunSummary
{
    public static void PrintHeader(ChaosOptions options, KafkaChoice kafka, Report report, List<PlannedMessage> messages, List<FaultAction> plan)
    {
        report.Write("== SinkConnector chaos soak ==");
        report.Write($"seed {options.Seed}, duration {options.Duration.TotalSeconds:0} s, {options.Rate} msg/s: {messages.Count} messages "
            + $"({messages.Count(m => m.Topic == Workload.EventsTopic)} to {Workload.EventsTopic}, {messages.Count(m => m.Topic == Workload.AccountsTopic)} to {Workload.AccountsTopic}, "
            + $"{messages.Count(m => m.Role == MessageRole.AccountDelete)} tombstones, {messages.Count(m => m.Role == MessageRole.Poison)} poison)");
        report.Write($"{Workload.Partitions} partitions per topic, {FaultPlan.Sinks} sinks in group '{SoakSetup.GroupId}', session.timeout.ms "
            + $"{KafkaTestCluster.ClientProperties["session.timeout.ms"]}");
        // eng/chaos.sh reads this line: only a run on the mock may be retried after the mock's own assertion.
        report.Write($"Kafka: {Describe(kafka)} ({kafka.Reason})");
        report.Write($"fault schedule: {Summarize(plan.Where(a => a.IsFault).GroupBy(a => a.Kind).ToDictionary(g => g.Key, g => g.Count()))}");
        report.Write($"reproduce: {options.ReproduceCommand(kafka.Source)}");
        report.Write("  (same seed and duration = same produced sequence and same fault schedule; the timing of sinks, Kafka and Postgres differs)");
        report.Write($"artifacts (report, every sink's log): {report.ArtifactsDirectory}");
    }

    public static CheckResult SinksCheck(SinkFleet fleet, Report report)
    {
        var exits = fleet.Exits;
        var summary = string.Join(", ", exits.GroupBy(e => (e.How, e.ExitCode)).OrderBy(g => g.Key.How, StringComparer.Ordinal)
            .Select(g => $"{g.Count()}x {g.Key.How} -> exit {g.Key.ExitCode}"));
        return new CheckResult("sink processes", report.RunProblems.Count == 0, $"{exits.Count} process exits: {summary}", report.RunProblems);
    }

    public static bool PrintVerdict(ChaosOptions options, KafkaChoice kafka, Report report, FaultExecutor executor, IReadOnlyList<SinkExit> exits, List<CheckResult> checks)
    {
        report.Write("\nsink exits:");
        foreach (var exit in exits)
        {
            report.Write($"  t+{exit.At.TotalSeconds,6:0.0}s  sink-{exit.Slot} pid {exit.Pid,-7} {exit.How,-26} exit {exit.ExitCode,3}  {(exit.Expected ? "ok" : "NOT OK")}");
        }

        report.Write("\nchecks:");
        foreach (var check in checks)
        {
            report.Write($"  {(check.Passed ? "PASS" : "FAIL")}  {check.Name}: {check.Summary}");
            foreach (var difference in check.Differences)
            {
                report.Write($"          {difference}");
            }
        }

        var passed = checks.All(c => c.Passed);
        report.Write($"\nfaults injected: {Summarize(executor.Injected)}");
        report.Write($"sink reactions (from their logs): {SinkReactions.Summarize(report.ArtifactsDirectory)}");
        report.Write($"VERDICT: {(passed ? "PASS" : "FAIL")}  seed {options.Seed}, duration {options.Duration.TotalSeconds:0} s, {Describe(kafka)}, "
            + $"wall time {report.Started.Elapsed.TotalSeconds:0} s ({report.Elapsed.TotalSeconds:0} s from the first message)"
            + (passed ? "" : $"\nreproduce: {options.ReproduceCommand(kafka.Source)}   (sink logs, config and this report in {report.ArtifactsDirectory})"));
        return passed;
    }

    /// <summary>Which Kafka, in the words the header and the verdict use.</summary>
    public static string Describe(KafkaChoice kafka) => kafka.Source == KafkaSource.Mock
        ? $"librdkafka's mock cluster ({FaultPlan.Brokers} brokers in the harness process)"
        : $"a real Apache Kafka broker from {kafka.Location}";

    public static string Summarize(IReadOnlyDictionary<FaultKind, int> counts) =>
        $"{counts.Values.Sum()} ("
        + string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key.Label()} {c.Value}")) + ")";
}
