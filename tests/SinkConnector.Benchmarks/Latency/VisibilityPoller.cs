using Npgsql;

namespace SinkConnector.Benchmarks.Latency;

/// <summary>
/// Stamps when each message's row became visible in Postgres by reading the sink's stored offsets in a loop. The sink
/// commits a batch's rows and its <c>next_offset</c> updates in one transaction, so the moment a partition's
/// <c>next_offset</c> moves from a to b in a new snapshot is the moment the rows of offsets [a, b) became visible:
/// reading <c>sink.offsets</c> (24 small rows) is as exact as reading the target table and far cheaper.
/// <para>
/// Resolution: a read sent at S(i) and answered at R(i) sees a snapshot taken between the two. Rows it sees for the
/// first time were therefore committed after the previous read's snapshot (after S(i-1)) and before R(i). Each
/// message is stamped visible by R(i) (its latency is an upper bound, never flattering) and after S(i-1) (the lower
/// bound); R(i) - S(i-1), the poller's own resolution, is recorded for every read and reported beside the figures.
/// </para>
/// Synchronous reads on a dedicated thread: a thread-pool timer would add its own scheduling delay to every stamp.
/// </summary>
public sealed class VisibilityPoller(string connectionString, string groupId, string topic, LatencyTimeline timeline, TimeSpan interval)
{
    private readonly List<double> _resolutions = [];
    private readonly List<double> _roundTrips = [];
    private long _visible;
    private int _reads;

    /// <summary>Messages visible so far (sum of next_offset over the topic's partitions).</summary>
    public long Visible => Interlocked.Read(ref _visible);

    /// <summary>Reads answered so far. The first only sets the baseline: what it sees was committed at an unknown earlier time.</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <summary>Per read after the first: R(i) - S(i-1), ms: how precisely it stamps what it sees first.</summary>
    public IReadOnlyList<double> Resolutions => _resolutions;

    /// <summary>Per read: R(i) - S(i), ms.</summary>
    public IReadOnlyList<double> RoundTrips => _roundTrips;

    public void Run(CancellationToken cancellationToken)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT partition, coalesce(next_offset, 0) FROM sink.offsets WHERE group_id = $1 AND topic = $2", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = groupId });
        command.Parameters.Add(new NpgsqlParameter { Value = topic });
        command.Prepare();
        var seen = new long[timeline.Partitions];
        double? previousSent = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var sent = LatencyTimeline.Now();
            var rows = new List<(int Partition, long NextOffset)>(seen.Length);
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    rows.Add((reader.GetInt32(0), reader.GetInt64(1)));
                }
            }

            var received = LatencyTimeline.Now();
            foreach (var (partition, next) in rows)
            {
                if (partition < seen.Length && next > seen[partition])
                {
                    if (previousSent is { } after)
                    {
                        timeline.Visible(partition, seen[partition], next, after, by: received);
                    }

                    seen[partition] = next;
                }
            }

            if (previousSent is { } previous)
            {
                _resolutions.Add(received - previous);
            }

            _roundTrips.Add(received - sent);
            Interlocked.Increment(ref _reads);
            Interlocked.Exchange(ref _visible, seen.Sum());
            previousSent = sent;
            if (interval > TimeSpan.Zero)
            {
                Thread.Sleep(interval);
            }
        }
    }
}
