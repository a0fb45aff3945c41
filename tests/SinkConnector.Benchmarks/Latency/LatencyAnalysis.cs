namespace SinkConnector.Benchmarks.Latency;

/// <summary>Turns one run's raw records (timeline, poller, per-second samples, sink log) into a <see cref="LatencyMeasurement"/>.</summary>
public static class LatencyAnalysis
{
    public static LatencyMeasurement Measure(
        int rate, int run, string kafka, TimeSpan warmUp, LatencyTimeline timeline, ProducerRun producer, VisibilityPoller poller,
        IReadOnlyList<SecondSample> samples, IReadOnlyList<SinkLogEvent> log)
    {
        var countedFrom = producer.StartMs + warmUp.TotalMilliseconds;
        var counted = timeline.Messages(fromMs: countedFrom).ToList();
        if (counted.Any(m => double.IsNaN(m.VisibleByMs)))
        {
            throw new InvalidOperationException($"{counted.Count(m => double.IsNaN(m.VisibleByMs))} counted messages never became visible");
        }

        var window = (producer.EndMs - countedFrom) / 1000;
        var fromFirst = log.Where(e => e.AtMs >= producer.StartMs).ToList();
        var commits = fromFirst.Select(SinkLogEvents.CommitMilliseconds).OfType<double>().ToList();
        return new LatencyMeasurement(rate, run, kafka)
        {
            AchievedRate = window > 0 ? counted.Count / window : double.NaN,
            Counted = counted.Count,
            Latency = Percentiles.Of(counted.Select(m => m.Latency)),
            LatencyLowerBound = Percentiles.Of(counted.Select(m => m.LatencyLowerBound)),
            Ack = Percentiles.Of(counted.Select(m => m.AckLatency)),
            AfterAck = Percentiles.Of(counted.Select(m => m.AfterAck)),
            PollResolution = Percentiles.Of(poller.Resolutions),
            PollRoundTripP50 = Percentiles.Of(poller.RoundTrips).P50,
            CommitMilliseconds = Percentiles.Of(commits),
            Batches = commits.Count,
            Seconds = PerSecond(timeline, producer, countedFrom, samples, fromFirst),
            Notable = [.. fromFirst.Where(e => e.IsNotable)],
        };
    }

    private static List<LatencySecond> PerSecond(
        LatencyTimeline timeline, ProducerRun producer, double countedFrom, IReadOnlyList<SecondSample> samples, IReadOnlyList<SinkLogEvent> log)
    {
        int SecondOf(double ms) => (int)Math.Floor((ms - producer.StartMs) / 1000);
        var commitsBySecond = log.Where(e => e.IsBatchCommit).GroupBy(e => SecondOf(e.AtMs)).ToDictionary(g => g.Key, g => g.ToList());
        var notableBySecond = log.Where(e => e.IsNotable).GroupBy(e => SecondOf(e.AtMs)).ToDictionary(g => g.Key, g => g.ToList());
        // A sample covers the second before it was taken.
        var samplesBySecond = samples.GroupBy(s => SecondOf(s.AtMs - 500)).ToDictionary(g => g.Key, g => g.First());
        return [.. timeline.Messages().GroupBy(m => SecondOf(m.CreatedMs)).OrderBy(g => g.Key).Select(g =>
        {
            var commits = commitsBySecond.GetValueOrDefault(g.Key) ?? [];
            return new LatencySecond(
                g.Key, g.Min(m => m.CreatedMs) >= countedFrom, g.Count(), Percentiles.Of(g.Select(m => m.Latency)), g.Max(m => m.AckLatency),
                commits.Count, commits.Select(SinkLogEvents.CommitMilliseconds).OfType<double>().DefaultIfEmpty(0).Max(),
                samplesBySecond.GetValueOrDefault(g.Key), notableBySecond.GetValueOrDefault(g.Key) ?? []);
        })];
    }
}
