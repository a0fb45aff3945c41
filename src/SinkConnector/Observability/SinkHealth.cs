namespace SinkConnector.Observability;

/// <summary>
/// What <c>/healthz</c> and <c>/readyz</c> answer from: the consumer loop reports here, the HTTP thread reads.
/// Liveness is "the loop polls"; readiness adds "in the group, and Postgres answers (and the schema registry, when a
/// batch waits for it)".
/// </summary>
public sealed class SinkHealth(TimeProvider? time = null)
{
    /// <summary>The loop polls at least every few hundred milliseconds; this much silence means it is stuck.</summary>
    public static readonly TimeSpan PollStall = TimeSpan.FromSeconds(30);

    /// <summary>An outage shorter than this is a blip the retries absorb; longer, the replica is not ready.</summary>
    public static readonly TimeSpan LongOutage = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private long _lastPollTicks;
    private long _outageSinceTicks;
    private long _registryOutageSinceTicks;
    private int _joined;

    public void Polled() => Interlocked.Exchange(ref _lastPollTicks, _time.GetUtcNow().UtcTicks);

    /// <summary>The group gave this consumer an assignment (possibly empty): it is a member.</summary>
    public void Joined() => Interlocked.Exchange(ref _joined, 1);

    public void Left() => Interlocked.Exchange(ref _joined, 0);

    /// <summary>A database operation failed transiently; the outage starts at the first such failure.</summary>
    public void DatabaseFailed() => Interlocked.CompareExchange(ref _outageSinceTicks, _time.GetUtcNow().UtcTicks, 0);

    public void DatabaseAnswered() => Interlocked.Exchange(ref _outageSinceTicks, 0);

    /// <summary>
    /// Converting a batch needed the schema registry and it did not answer; the outage starts at the first such failure.
    /// Only a registry the sink waits for counts: one it does not need (every schema id known) does not make it unready.
    /// </summary>
    public void RegistryFailed() => Interlocked.CompareExchange(ref _registryOutageSinceTicks, _time.GetUtcNow().UtcTicks, 0);

    public void RegistryAnswered() => Interlocked.Exchange(ref _registryOutageSinceTicks, 0);

    /// <summary>Whether the last database operation failed transiently (an outage, however short, is going on).</summary>
    public bool DatabaseFailing => Interlocked.Read(ref _outageSinceTicks) != 0;

    public bool IsLive(out string reason)
    {
        var last = Interlocked.Read(ref _lastPollTicks);
        if (last == 0)
        {
            reason = "starting: not polled yet";
            return true;
        }

        var silence = _time.GetUtcNow() - new DateTimeOffset(last, TimeSpan.Zero);
        reason = $"last poll {silence.TotalSeconds:0.0} s ago";
        return silence < PollStall;
    }

    public bool IsReady(out string reason)
    {
        if (!IsLive(out reason))
        {
            return false;
        }

        if (Volatile.Read(ref _joined) == 0)
        {
            reason = "not in the consumer group (yet)";
            return false;
        }

        var outage = Interlocked.Read(ref _outageSinceTicks);
        if (outage != 0 && _time.GetUtcNow() - new DateTimeOffset(outage, TimeSpan.Zero) > LongOutage)
        {
            reason = $"Postgres unreachable since {new DateTimeOffset(outage, TimeSpan.Zero):O}";
            return false;
        }

        var registryOutage = Interlocked.Read(ref _registryOutageSinceTicks);
        if (registryOutage != 0 && _time.GetUtcNow() - new DateTimeOffset(registryOutage, TimeSpan.Zero) > LongOutage)
        {
            reason = $"schema registry unreachable since {new DateTimeOffset(registryOutage, TimeSpan.Zero):O} (a batch waits for a schema)";
            return false;
        }

        reason = "in the group, Postgres answering";
        return true;
    }
}
