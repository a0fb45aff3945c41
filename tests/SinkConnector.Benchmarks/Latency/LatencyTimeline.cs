namespace SinkConnector.Benchmarks.Latency;

/// <summary>
/// Per message of one run (by partition and offset: the topic is new, so offsets count from 0): its CreateTime, when
/// the producer's delivery report arrived, and the window in which its row became visible in Postgres. All times are
/// milliseconds on this process's wall clock (<see cref="Now"/>), which the producer's CreateTime also comes from.
/// </summary>
public sealed class LatencyTimeline
{
    private readonly long[][] _created;
    private readonly double[][] _acked;
    private readonly double[][] _visibleAfter;
    private readonly double[][] _visibleBy;

    public LatencyTimeline(IReadOnlyList<int> messagesPerPartition)
    {
        _created = [.. messagesPerPartition.Select(n => new long[n])];
        _acked = [.. messagesPerPartition.Select(n => Filled(n))];
        _visibleAfter = [.. messagesPerPartition.Select(n => Filled(n))];
        _visibleBy = [.. messagesPerPartition.Select(n => Filled(n))];
        Total = messagesPerPartition.Sum();
    }

    public int Partitions => _created.Length;

    public int Total { get; }

    /// <summary>Unix time in milliseconds with the clock's full resolution (microseconds on Linux).</summary>
    public static double Now() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds;

    /// <summary>A delivery report: the broker stored the message at this offset with this CreateTime.</summary>
    public void Acknowledged(int partition, long offset, long createTimeMs, double at)
    {
        _created[partition][offset] = createTimeMs;
        _acked[partition][offset] = at;
    }

    /// <summary>
    /// Offsets [<paramref name="from"/>, <paramref name="to"/>) of a partition became visible after
    /// <paramref name="after"/> (they were not yet in a snapshot taken later than that) and by <paramref name="by"/>.
    /// </summary>
    public void Visible(int partition, long from, long to, double after, double by)
    {
        var count = (int)Math.Min(to, _visibleBy[partition].Length) - (int)from;
        if (count > 0)
        {
            _visibleAfter[partition].AsSpan((int)from, count).Fill(after);
            _visibleBy[partition].AsSpan((int)from, count).Fill(by);
        }
    }

    /// <summary>Every acknowledged message whose CreateTime is in [<paramref name="fromMs"/>, <paramref name="toMs"/>).</summary>
    public IEnumerable<MessageLatency> Messages(double fromMs = double.MinValue, double toMs = double.MaxValue)
    {
        for (var p = 0; p < _created.Length; p++)
        {
            for (var o = 0; o < _created[p].Length; o++)
            {
                var created = _created[p][o];
                if (!double.IsNaN(_acked[p][o]) && created >= fromMs && created < toMs)
                {
                    yield return new MessageLatency(p, o, created, _acked[p][o], _visibleAfter[p][o], _visibleBy[p][o]);
                }
            }
        }
    }

    private static double[] Filled(int n)
    {
        var values = new double[n];
        Array.Fill(values, double.NaN);
        return values;
    }
}

/// <summary>One message's times (ms, see <see cref="LatencyTimeline"/>); NaN where it did not happen (yet).</summary>
public readonly record struct MessageLatency(int Partition, long Offset, long CreatedMs, double AckedMs, double VisibleAfterMs, double VisibleByMs)
{
    /// <summary>End-to-end latency as reported: CreateTime until the poll that first saw the row (an upper bound).</summary>
    public double Latency => VisibleByMs - CreatedMs;

    /// <summary>The lower bound: CreateTime until the previous poll's snapshot, which did not see it yet.</summary>
    public double LatencyLowerBound => Math.Max(0, VisibleAfterMs - CreatedMs);

    /// <summary>CreateTime until the delivery report: the producer's linger plus the broker's append.</summary>
    public double AckLatency => AckedMs - CreatedMs;

    /// <summary>The delivery report until visible: roughly the sink's share (fetch, batch, commit) plus the poll.</summary>
    public double AfterAck => VisibleByMs - AckedMs;
}
