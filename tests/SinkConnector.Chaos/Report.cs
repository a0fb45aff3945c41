using System.Diagnostics;

namespace SinkConnector.Chaos;

/// <summary>
/// The soak's output: every line stamped with the time since producing started (the fault schedule's clock), on the
/// console and in <c>report.txt</c> beside the sinks' logs. Problems seen while running (a sink that crashed, a
/// SIGTERM that did not exit 0) are collected here for the verdict.
/// </summary>
internal sealed class Report(string artifactsDirectory) : IDisposable
{
    private readonly Stopwatch _clock = new();
    private readonly Lock _lock = new();
    private readonly StreamWriter _file = new(Path.Combine(artifactsDirectory, "report.txt")) { AutoFlush = true };
    private readonly List<string> _runProblems = [];

    public string ArtifactsDirectory { get; } = artifactsDirectory;

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Since the harness started (setup included): the wall time a CI job pays.</summary>
    public Stopwatch Started { get; } = Stopwatch.StartNew();

    public IReadOnlyList<string> RunProblems
    {
        get
        {
            lock (_lock)
            {
                return [.. _runProblems];
            }
        }
    }

    public void StartClock() => _clock.Restart();

    /// <summary>A line stamped with the run clock.</summary>
    public void Line(string text) => Write($"[{Elapsed.TotalSeconds,6:0.0}s] {text}");

    /// <summary>A line without a stamp (headers, the checks, the verdict).</summary>
    public void Write(string text)
    {
        lock (_lock)
        {
            Console.WriteLine(text);
            _file.WriteLine(text);
        }
    }

    /// <summary>Something that makes the run fail whatever the table checks say (crash, bad exit code, hang).</summary>
    public void Problem(string text)
    {
        lock (_lock)
        {
            _runProblems.Add($"t+{Elapsed.TotalSeconds:0.0}s {text}");
        }

        Line("PROBLEM " + text);
    }

    public void Dispose() => _file.Dispose();
}
