using System.Globalization;

namespace SinkConnector.Benchmarks.Latency;

/// <summary>
/// One second of a latency run, as seen from outside the sink: CPU seconds used in that second by the sink, by its
/// garbage collector's threads, by Postgres and by the whole machine (with what the hypervisor stole), and the sink's
/// resident memory. A latency tail that coincides with a saturated machine or stolen time is the environment's.
/// </summary>
/// <param name="CpuPressure">Share of the second in which some runnable task waited for a CPU (Linux PSI, /proc/pressure/cpu "some").</param>
public sealed record SecondSample(
    double AtMs, double SinkCpu, double SinkGcCpu, double PostgresCpu, double MachineBusy, double MachineSteal, double CpuPressure, long SinkRssBytes);

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
                    now.Machine.Busy - last.Machine.Busy, now.Machine.Steal - last.Machine.Steal, (now.PressureUs - last.PressureUs) / 1e6,
                    ProcessStats.RssBytes(sinkPid)));
                last = now;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is over.
        }
    }

    private (double AtMs, double Sink, double SinkGc, double Postgres, (double Busy, double Steal) Machine, double PressureUs) Read()
    {
        var threads = ProcessStats.ThreadCpuByName(sinkPid);
        // .NET names its background GC thread ".NET BGC" (and server GC threads ".NET Server GC"); foreground
        // collections run on the allocating thread and are not separable here.
        var gc = threads.Where(t => t.Key.Contains("GC", StringComparison.Ordinal)).Sum(t => t.Value);
        return (LatencyTimeline.Now(), ProcessStats.CpuSeconds(sinkPid), gc, postgresCpuSeconds(), MachineCpu(), CpuPressureMicroseconds());
    }

    /// <summary>Total µs in which some task waited for a CPU ("some ... total=" of /proc/pressure/cpu); 0 without PSI.</summary>
    private static double CpuPressureMicroseconds()
    {
        const string path = "/proc/pressure/cpu";
        var some = File.Exists(path) ? File.ReadLines(path).FirstOrDefault(l => l.StartsWith("some ", StringComparison.Ordinal)) : null;
        var total = some?.Split(' ').FirstOrDefault(f => f.StartsWith("total=", StringComparison.Ordinal));
        return total is null ? 0 : double.Parse(total["total=".Length..], CultureInfo.InvariantCulture);
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
