using SinkConnector.Testing;

namespace SinkConnector.Chaos;

/// <summary>How a sink process ended, for the report.</summary>
/// <param name="Expected">Whether this exit is fine: SIGKILL (any code), or SIGTERM with exit code 0.</param>
internal sealed record SinkExit(int Slot, int Pid, string How, int ExitCode, TimeSpan At, bool Expected, string LogFile);

/// <summary>
/// Three slots, each running one <c>sink run</c> process at a time, all in one consumer group. The faults act on
/// slots; a watcher notices a process that exits on its own (a crash: always a problem), saves its log and starts
/// the slot again so the soak goes on. Every process's output is saved in the artifacts folder when it ends.
/// </summary>
internal sealed class SinkFleet : IAsyncDisposable
{
    // shutdown_grace is 15 s in the soak's sink.yaml; past that plus margin a SIGTERMed sink counts as hung.
    private static readonly TimeSpan s_termTimeout = TimeSpan.FromSeconds(35);

    private readonly string _configDirectory;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly Report _report;
    private readonly Slot[] _slots;
    private readonly Lock _lock = new();
    private readonly List<SinkExit> _exits = [];
    private readonly CancellationTokenSource _stopWatching = new();
    private readonly Task _watcher;

    public SinkFleet(int size, string configDirectory, IReadOnlyDictionary<string, string> environment, Report report)
    {
        _configDirectory = configDirectory;
        _environment = environment;
        _report = report;
        _slots = [.. Enumerable.Range(0, size).Select(i => new Slot(i))];
        foreach (var slot in _slots)
        {
            Start(slot.Index);
        }

        _watcher = Task.Run(WatchAsync);
    }

    private enum SlotState
    {
        Running,
        Frozen,
        Killed,
        Terminating,
    }

    public IReadOnlyList<SinkExit> Exits
    {
        get
        {
            lock (_lock)
            {
                return [.. _exits];
            }
        }
    }

    public void Start(int index)
    {
        lock (_lock)
        {
            var slot = _slots[index];
            slot.Generation++;
            // The previous process has ended and its log is saved (Record runs before every restart).
            slot.Process?.Dispose();
            slot.Process = SinkProcess.Start(["run", "--config", _configDirectory], _environment);
            slot.State = SlotState.Running;
            _report.Line($"       sink-{index} started (pid {slot.Process.Id}, generation {slot.Generation})");
        }
    }

    public async Task KillAsync(int index)
    {
        var process = Take(index, SlotState.Killed);
        process.Signal(SinkProcess.SIGKILL);
        await process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        Record(index, process, "SIGKILL", expected: true);
    }

    public void Freeze(int index) => Take(index, SlotState.Frozen).Signal(SinkProcess.SIGSTOP);

    public void Thaw(int index) => Take(index, SlotState.Running).Signal(SinkProcess.SIGCONT);

    /// <summary>SIGTERM: the sink must commit, leave the group and exit 0 within its grace period.</summary>
    public async Task TerminateAsync(int index, bool restart)
    {
        await WaitUntilLoggingAsync(index);
        var process = Take(index, SlotState.Terminating);
        process.Signal(SinkProcess.SIGCONT);
        process.Signal(SinkProcess.SIGTERM);
        try
        {
            await process.WaitForExitAsync(s_termTimeout);
        }
        catch (TimeoutException)
        {
            _report.Problem($"sink-{index} (pid {process.Id}) did not exit within {s_termTimeout.TotalSeconds:0} s of SIGTERM (hang); SIGKILLed");
            process.Signal(SinkProcess.SIGKILL);
            await process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        var exit = Record(index, process, "SIGTERM", expected: process.ExitCode == 0);
        if (!exit.Expected)
        {
            _report.Problem($"sink-{index} (pid {process.Id}) exited {process.ExitCode} after SIGTERM (expected 0); log {exit.LogFile}");
        }

        if (restart)
        {
            Start(index);
        }
    }

    /// <summary>After the faults: frozen sinks continue, dead ones start again.</summary>
    public void EnsureAllRunning()
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            SlotState state;
            lock (_lock)
            {
                state = _slots[i].State;
            }

            if (state == SlotState.Frozen)
            {
                Thaw(i);
                _report.Line($"       sink-{i} was still frozen: SIGCONT");
            }
            else if (state == SlotState.Killed)
            {
                Start(i);
            }
        }
    }

    /// <summary>The end of the soak: every sink gets SIGTERM at once and must exit 0.</summary>
    public async Task StopAllAsync()
    {
        await _stopWatching.CancelAsync();
        await _watcher;
        await Task.WhenAll(Enumerable.Range(0, _slots.Length).Select(i => TerminateAsync(i, restart: false)));
    }

    /// <summary>For Ctrl+C and crashes of the harness: no sink outlives it.</summary>
    public void KillAll()
    {
        lock (_lock)
        {
            foreach (var slot in _slots)
            {
                slot.Process?.Signal(SinkProcess.SIGKILL);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopWatching.CancelAsync();
        await _watcher;
        _stopWatching.Dispose();
        lock (_lock)
        {
            foreach (var slot in _slots)
            {
                slot.Process?.Dispose();
            }
        }
    }

    /// <summary>
    /// A sink that has not logged yet may not handle SIGTERM yet: until `sink run` registers its handler the runtime's
    /// default ends the process with 143, which proves nothing about the sink (seed 5 signalled one 1 ms after start).
    /// Once it logs, the handler is in place. A process that stays silent is signalled after the wait anyway.
    /// </summary>
    private async Task WaitUntilLoggingAsync(int index)
    {
        SinkProcess process;
        lock (_lock)
        {
            process = _slots[index].Process!;
        }

        for (var waited = 0; waited < 30_000 && process.Output.Length == 0 && !process.HasExited; waited += 50)
        {
            await Task.Delay(50);
        }
    }

    private SinkProcess Take(int index, SlotState next)
    {
        lock (_lock)
        {
            var slot = _slots[index];
            slot.State = next;
            return slot.Process!;
        }
    }

    private SinkExit Record(int index, SinkProcess process, string how, bool expected)
    {
        int generation;
        lock (_lock)
        {
            generation = _slots[index].Generation;
        }

        var file = Path.Combine(_report.ArtifactsDirectory, $"sink-{index}.{generation}.pid{process.Id}.log");
        File.WriteAllText(file, process.Output);
        var exit = new SinkExit(index, process.Id, how, process.ExitCode, _report.Elapsed, expected, file);
        lock (_lock)
        {
            _exits.Add(exit);
        }

        _report.Line($"       sink-{index} (pid {process.Id}) exited {process.ExitCode} after {how}");
        return exit;
    }

    /// <summary>A process that ends while its slot says running or frozen crashed: a problem, then a fresh start.</summary>
    private async Task WatchAsync()
    {
        while (!_stopWatching.IsCancellationRequested)
        {
            for (var i = 0; i < _slots.Length; i++)
            {
                SinkProcess? crashed = null;
                lock (_lock)
                {
                    var slot = _slots[i];
                    if (slot.State is SlotState.Running or SlotState.Frozen && slot.Process!.HasExited)
                    {
                        crashed = slot.Process;
                        slot.State = SlotState.Killed;
                    }
                }

                if (crashed is not null)
                {
                    var exit = Record(i, crashed, "nothing (exited by itself)", expected: false);
                    var tail = string.Join("\n      ", crashed.Output.Split('\n').TakeLast(15));
                    _report.Problem($"sink-{i} (pid {crashed.Id}) exited {crashed.ExitCode} by itself; log {exit.LogFile}; last lines:\n      {tail}");
                    Start(i);
                }
            }

            try
            {
                await Task.Delay(250, _stopWatching.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private sealed class Slot(int index)
    {
        public int Index { get; } = index;

        public int Generation { get; set; }

        public SinkProcess? Process { get; set; }

        public SlotState State { get; set; }
    }
}
