using Confluent.Kafka;

namespace SinkConnector.Chaos;

/// <summary>
/// The harness's own check, before the sink is judged: every planned message was acknowledged and is in the log, in
/// planned order per partition (first copies), and nothing was trimmed. Records Kafka holds twice (a producer retry the mock broker
/// appended again) are reported, not failed: the sink is checked against the log as it is.
/// </summary>
internal static class ProducerCheck
{
    public static CheckResult Run(
        IReadOnlyList<PlannedMessage> messages, SteadyProducer producer, IReadOnlyList<LogRecord> log, IReadOnlyDictionary<(string Topic, int Partition), long> lowWatermarks)
    {
        var problems = new List<string>();
        if (producer.Failures > 0)
        {
            problems.Add($"{producer.Failures} delivery failures; first: {producer.FirstFailure}");
        }

        var copies = log.GroupBy(r => r.Message.Sequence).ToDictionary(g => g.Key, g => g.Select(r => r.Offset).ToList());
        var missing = messages.Where(m => !copies.ContainsKey(m.Sequence)).ToList();
        // librdkafka reports a retried idempotent batch that the broker calls a duplicate as delivered, without an
        // offset; the mock broker sometimes answers so for a batch it never stored. Kafka-side, like a record
        // written twice: the expected state follows the log, so the sink is still judged exactly.
        var acknowledgedUnstored = missing.Where(m => producer.Offsets[m.Sequence] == Offset.Unset.Value).ToList();
        problems.AddRange(missing.Except(acknowledgedUnstored).Take(10)
            .Select(m => $"message {m.Sequence} ({m.Topic}[{m.Partition}], acknowledged at {producer.Offsets[m.Sequence]}) is not in the log"));
        problems.AddRange(lowWatermarks.Where(w => w.Value > 0)
            .Select(w => $"{w.Key.Topic}[{w.Key.Partition}] starts at offset {w.Value}: retention trimmed it (produce less)"));
        // Judged on each message's first copy: a retried batch appended again lands after later messages (seed 4).
        problems.AddRange(log.GroupBy(r => (r.Message.Topic, r.Partition))
            .Where(p => !IsNonDecreasing(p.OrderBy(r => r.Offset).DistinctBy(r => r.Message.Sequence).Select(r => r.Message.Sequence)))
            .Select(p => $"{p.Key.Topic}[{p.Key.Partition}]: records out of planned order"));

        var twice = copies.Where(c => c.Value.Count > 1).OrderBy(c => c.Key).ToList();
        var notes = twice.Take(5)
            .Select(c => $"note: message {c.Key} is in the log {c.Value.Count} times ({messages[c.Key].Topic}[{messages[c.Key].Partition}] at {string.Join(", ", c.Value)}); "
                + "Kafka-side, expected state includes every copy");
        notes = notes.Concat(acknowledgedUnstored.Take(5).Select(m =>
            $"note: message {m.Sequence} ({m.Topic}[{m.Partition}]) was acknowledged without an offset and is not in the log; Kafka-side, expected state leaves it out"));
        var summary = $"{producer.Offsets.Count(o => o >= 0)} of {messages.Count} acknowledged with an offset, {log.Count} records in the log"
            + (twice.Count > 0 ? $" ({twice.Count} written twice by producer retries)" : "")
            + (acknowledgedUnstored.Count > 0 ? $" ({acknowledgedUnstored.Count} acknowledged as duplicates but never stored)" : "")
            + ", planned order kept, nothing trimmed";
        return new CheckResult("producer (harness)", problems.Count == 0, summary, [.. problems.Take(20), .. notes]);
    }

    private static bool IsNonDecreasing(IEnumerable<int> sequences)
    {
        var last = int.MinValue;
        foreach (var sequence in sequences)
        {
            if (sequence < last)
            {
                return false;
            }

            last = sequence;
        }

        return true;
    }
}
