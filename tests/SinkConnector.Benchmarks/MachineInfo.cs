using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace SinkConnector.Benchmarks;

/// <summary>What the numbers were measured on: they are only comparable within one run, on one machine.</summary>
public sealed record MachineInfo(DateTime Started, string Cpu, int Cores, string LoadAtStart, string? LoadAtEnd, string Runtime, string Commit)
{
    public string Summary => $"{Cores} cores ({Cpu}), load {LoadAtStart}, {Runtime}, commit {Commit}";

    public static MachineInfo Capture() => new(
        DateTime.UtcNow,
        ReadFirst("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        Environment.ProcessorCount,
        LoadAverages(),
        null,
        RuntimeInformation.FrameworkDescription,
        GitCommit());

    public MachineInfo Finish() => this with { LoadAtEnd = LoadAverages() };

    /// <summary>The 1-minute load average now; null where /proc/loadavg is missing.</summary>
    public static double? LoadAverage() =>
        File.Exists("/proc/loadavg") ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture) : null;

    private static string LoadAverages() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    private static string? ReadFirst(string path, string key) =>
        File.Exists(path)
            ? File.ReadLines(path).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;

    /// <summary>The commit of the code measured, marked dirty when src/ has uncommitted changes.</summary>
    private static string GitCommit()
    {
        try
        {
            var head = Git("rev-parse --short HEAD");
            var dirty = Git("status --porcelain -- src migrations").Length > 0 ? " (src/ modified)" : "";
            return head.Length > 0 ? head + dirty : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown (no git)";
        }
    }

    private static string Git(string arguments)
    {
        var info = new ProcessStartInfo("git", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : "";
    }

    public string Date => Started.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
