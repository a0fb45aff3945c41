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
public sealed class WriteProgress(TimeProvider time)
{
    private volatile string _stage = "converting";
    private long _changedAt = time.GetTimestamp();
    private long _sequence = -1;
    private Task? _predecessor;
    private volatile int _attempt;

    /// <summary>The pipeline numbered this write and gave it the task of the write before it (null: none in flight).</summary>
    public void Started(long sequence, Task? predecessor)
    {
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

    public void Set(string stage)
    {
        _stage = stage;
        Volatile.Write(ref _changedAt, time.GetTimestamp());
    }

    /// <summary>How long the stage has not changed.</summary>
    public TimeSpan Unchanged => time.GetElapsedTime(Volatile.Read(ref _changedAt));

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
