using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace SinkConnector.Testing;

/// <summary>
/// The real <c>sink</c> executable in a child process, so tests can SIGKILL, SIGSTOP and SIGTERM it like an
/// orchestrator would. Output is kept for failure messages.
/// </summary>
public sealed class SinkProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SinkProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The output, after a dump of the process when <c>SINK_TEST_DUMP_DIR</c> asks for one (<see cref="StallDump"/>): for waits that time out.</summary>
    public string OutputAfterDump() => (HasExited ? "" : StallDump.Collect(Id)) + Output;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The sink.dll built next to the test assembly (the CLI project is referenced for that).</summary>
    public static string SinkDll => Path.Combine(AppContext.BaseDirectory, "sink.dll");

    /// <param name="dllPath">Another build of sink.dll (a publish folder); <see cref="SinkDll"/> by default.</param>
    /// <param name="inheritEnvironment">False: the process sees only <paramref name="environment"/>, as in a container.</param>
    public static SinkProcess Start(
        IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? dllPath = null, bool inheritEnvironment = true)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dllPath ?? SinkDll);
        if (!inheritEnvironment)
        {
            info.Environment.Clear();
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        return new SinkProcess(Process.Start(info) ?? throw new InvalidOperationException("cannot start sink"));
    }

    /// <summary>Runs a sink command to completion and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToEndAsync(
        IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null, string? dllPath = null)
    {
        using var process = Start(args, environment, dllPath);
        await process.WaitForExitAsync(timeout ?? TimeSpan.FromMinutes(2));
        return (process.ExitCode, process.Output);
    }

    public void Signal(int signal)
    {
        if (!_process.HasExited && kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed");
        }
    }

    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int SIGSTOP = 19;
    public const int SIGCONT = 18;

    /// <summary>Waits until the output contains <paramref name="text"/>; fails early if the process exits first.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline || HasExited)
            {
                throw new TimeoutException($"no '{text}' in sink output:\n{Output}");
            }

            await Task.Delay(100);
        }
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"sink did not exit within {timeout}. Output:\n{Output}");
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        KeepOutput();
        _process.Dispose();
    }

    /// <summary>
    /// A passing test shows no output; a loop that repeats tests to catch a rare failure (a stall) wants every run's
    /// log to compare with: <c>SINK_TEST_OUTPUT_DIR</c> names a folder that gets each sink's output as a file.
    /// </summary>
    private void KeepOutput()
    {
        var folder = Environment.GetEnvironmentVariable("SINK_TEST_OUTPUT_DIR");
        if (string.IsNullOrEmpty(folder))
        {
            return;
        }

        Directory.CreateDirectory(folder);
        var name = $"sink-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{_process.Id}.log";
        File.WriteAllText(Path.Combine(folder, name), Output);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
