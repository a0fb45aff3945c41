using System.Diagnostics;

namespace SinkConnector.Testing;

/// <summary>
/// For loops that hunt a rare stall: with <c>SINK_TEST_DUMP_DIR</c> set, a process whose wait timed out is dumped
/// there (<c>dotnet-dump collect</c>) and the await chain of every pending async state machine written beside the
/// dump (<c>dotnet-dump analyze</c> with <c>dumpasync</c>, and every thread's managed stack). Off by default: a dump
/// takes seconds and hundreds of MB.
/// </summary>
public static class StallDump
{
    private static readonly TimeSpan s_toolTimeout = TimeSpan.FromMinutes(3);

    /// <summary>Dumps process <paramref name="pid"/> when the variable is set; returns a line saying where (empty otherwise).</summary>
    public static string Collect(int pid)
    {
        var folder = Environment.GetEnvironmentVariable("SINK_TEST_DUMP_DIR");
        if (string.IsNullOrEmpty(folder))
        {
            return "";
        }

        Directory.CreateDirectory(folder);
        var dump = Path.Combine(folder, $"stall-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{pid}.dmp");
        var collected = Run(["collect", "-p", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", dump]);
        if (!File.Exists(dump))
        {
            return $"dotnet-dump collect of pid {pid} failed: {collected}\n";
        }

        var analysis = Run(["analyze", dump, "-c", "dumpasync", "-c", "clrstack -all", "-c", "exit"]);
        File.WriteAllText(dump + ".txt", analysis);
        return $"stalled process {pid} dumped to {dump}, its async chains and stacks in {dump}.txt\n";
    }

    private static string Run(IEnumerable<string> args)
    {
        var tool = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "dotnet-dump");
        var info = new ProcessStartInfo(File.Exists(tool) ? tool : "dotnet-dump") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(info)!;
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(s_toolTimeout))
            {
                process.Kill(entireProcessTree: true);
            }

            return output + error.Result;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"dotnet-dump not found ({e.Message}): dotnet tool install -g dotnet-dump";
        }
    }
}
