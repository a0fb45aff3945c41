namespace SinkConnector.Engine;

/// <summary>
/// Where a batch's write is, set by the write task at every step (per statement, never per message) and read by the
/// loop: the slow-write warning (event 1029), the commit-stall report (event 1030) and the hung-write check (event 1036).
/// </summary>
/// <remarks>
/// The predecessor's state is read when the stage is described, not when it was set: a stage set while the write
/// before it ran would otherwise keep saying so after it ended (the stall of a Protobuf kill test reported "the write
/// before it still running" for 151 s about a predecessor that had committed at once).
/// </remarks>
public sealed class WriteProgress
{
    private TimeProvider _time = TimeProvider.System;
    private volatile string _stage = "not started";
    private long _changedAt = TimeProvider.System.GetTimestamp();
    private long _sequence = -1;
    private Task? _predecessor;
    private volatile int _attempt;
    private volatile bool _bounded = true;

    /// <summary>The pipeline numbered this write and gave it the task of the write before it (null: none in flight) and its clock.</summary>
    public void Started(long sequence, Task? predecessor, TimeProvider time)
    {
        _time = time;
        _sequence = sequence;
        _predecessor = predecessor;
        Set("converting");
    }

    /// <summary>The pipeline starts attempt <paramref name="attempt"/> (1: the first; more after transient failures).</summary>
    public void Attempt(int attempt)
    {
        _attempt = attempt;
        Set("starting");
    }

    /// <param name="bounded">False for a stage that may last without a change for as long as it takes (a writer's code that reports nothing).</param>
    public void Set(string stage, bool bounded = true)
    {
        _bounded = bounded;
        _stage = stage;
        Volatile.Write(ref _changedAt, _time.GetTimestamp());
    }

    /// <summary>Whether the current stage ends or changes within a statement's timeout when nothing is stuck.</summary>
    public bool Bounded => _bounded;

    /// <summary>How long the stage has not changed.</summary>
    public TimeSpan Unchanged => _time.GetElapsedTime(Volatile.Read(ref _changedAt));

    /// <summary>The stage with the write's number and the state of the write before it.</summary>
    public string Describe()
    {
        var predecessor = _predecessor switch
        {
            null => "none before it in flight",
            { IsCompleted: true } => $"write {_sequence - 1} before it ended",
            _ => $"write {_sequence - 1} before it still running",
        };
        var attempt = _attempt == 0 ? "" : $", attempt {_attempt}";
        return $"write {_sequence}{attempt}: {_stage} ({predecessor}; stage unchanged for {(long)Unchanged.TotalSeconds} s)";
    }
}
