using System.Globalization;

namespace SinkConnector.Benchmarks.Latency;

/// <summary>
/// One second of a latency run, as seen from outside the sink: CPU seconds used in that second by the sink, by its
/// garbage collector's threads, by Postgres and by the whole machine (with what the hypervisor stole), and the sink's
/// resident memory. A latency tail that coincides with a saturated machine or stolen time is the environment's.
/// </summary>
public sealed record SecondSample(double AtMs, double SinkCpu, double SinkGcCpu, double PostgresCpu, double MachineBusy, double MachineSteal, long SinkRssBytes);

/// <summary>Samples <see cref="SecondSample"/> once a second until cancelled.</summary>
public sealed class SecondSampler(int sinkPid, Func<double> postgresCpuSeconds)
{
    private readonly List<SecondSample> _samples = [];

    public IReadOnlyList<SecondSample> Samples => _samples;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var last = Read();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var now = Read();
                _samples.Add(new SecondSample(
                    now.AtMs, now.Sink - last.Sink, now.SinkGc - last.SinkGc, now.Postgres - last.Postgres,
                    now.Machine.Busy - last.Machine.Busy, now.Machine.Steal - last.Machine.Steal, ProcessStats.RssBytes(sinkPid)));
                last = now;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    private (double AtMs, double Sink, double SinkGc, double Postgres, (double Busy, double Steal) Machine) Read()
    {
        var threads = ProcessStats.ThreadCpuByName(sinkPid);
        // .NET names its background GC thread ".NET BGC" (and server GC threads ".NET Server GC"); foreground
        // collections run on the allocating thread and are not separable here.
        var gc = threads.Where(t => t.Key.Contains("GC", StringComparison.Ordinal)).Sum(t => t.Value);
        return (LatencyTimeline.Now(), ProcessStats.CpuSeconds(sinkPid), gc, postgresCpuSeconds(), MachineCpu());
    }

    /// <summary>CPU seconds of all cores since boot from /proc/stat: busy (everything but idle and iowait) and steal.</summary>
    private static (double Busy, double Steal) MachineCpu()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture) / 100.0).ToArray();
        // user nice system idle iowait irq softirq steal ...
        var steal = fields.Length > 7 ? fields[7] : 0;
        var busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6];
        return (busy, steal);
    }
}
