using System.Globalization;
using System.Runtime.InteropServices;

namespace SinkConnector.Benchmarks;

/// <summary>CPU time and peak memory of processes and threads, from Linux's /proc.</summary>
public static class ProcessStats
{
    private const int ClockTicksName = 2; // _SC_CLK_TCK

    private static readonly double s_ticksPerSecond = sysconf(ClockTicksName) is > 0 and var ticks ? ticks : 100;

    /// <summary>The fields of /proc/PID/stat after the command name: index 0 is field 3 (state).</summary>
    private static string[]? StatFields(string path)
    {
        try
        {
            var text = File.ReadAllText(path);
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null; // the process or thread has exited
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static double Ticks(string[] fields, int field) => long.Parse(fields[field - 3], CultureInfo.InvariantCulture) / s_ticksPerSecond;

    public static int ParentOf(int pid) =>
        StatFields($"/proc/{pid}/stat") is { } f ? int.Parse(f[1], CultureInfo.InvariantCulture) : throw new InvalidOperationException($"no process {pid}");

    /// <summary>User + system CPU seconds of the process (all its threads).</summary>
    public static double CpuSeconds(int pid) => StatFields($"/proc/{pid}/stat") is { } f ? Ticks(f, 14) + Ticks(f, 15) : 0;

    /// <summary>A process, its live children and the children it has already reaped (Postgres backends come and go).</summary>
    public static double TreeCpuSeconds(int root)
    {
        var total = StatFields($"/proc/{root}/stat") is { } r ? Ticks(r, 14) + Ticks(r, 15) + Ticks(r, 16) + Ticks(r, 17) : 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(directory);
            if (name.Length > 0 && char.IsAsciiDigit(name[0]) && StatFields($"{directory}/stat") is { } f
                && f[1] == root.ToString(CultureInfo.InvariantCulture))
            {
                total += Ticks(f, 14) + Ticks(f, 15) + Ticks(f, 16) + Ticks(f, 17);
            }
        }

        return total;
    }

    /// <summary>Peak resident set size (VmHWM) in bytes.</summary>
    public static long PeakRssBytes(int pid) => StatusBytes(pid, "VmHWM:");

    /// <summary>Current resident set size (VmRSS) in bytes.</summary>
    public static long RssBytes(int pid) => StatusBytes(pid, "VmRSS:");

    private static long StatusBytes(int pid, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    /// <summary>CPU seconds of this process's threads grouped by thread name (librdkafka names its threads rdk:*).</summary>
    public static Dictionary<string, double> ThreadCpuByName(int pid)
    {
        var byName = new Dictionary<string, double>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            if (StatFields($"{task}/stat") is not { } f)
            {
                continue;
            }

            string name;
            try
            {
                name = File.ReadAllText($"{task}/comm").Trim();
            }
            catch (IOException)
            {
                continue;
            }

            byName[name] = byName.GetValueOrDefault(name) + Ticks(f, 14) + Ticks(f, 15);
        }

        return byName;
    }

    [DllImport("libc")]
    private static extern long sysconf(int name);
}
