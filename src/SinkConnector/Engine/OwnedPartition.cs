namespace SinkConnector.Engine;

/// <summary>What to do with a fetched message, decided by <see cref="OwnedPartition.Classify"/>.</summary>
internal enum FetchedMessage
{
    /// <summary>The next message of the partition: it goes into the batch.</summary>
    Accept,

    /// <summary>Before the next offset (fetched before a seek, or already in the batch): dropped.</summary>
    Ignore,

    /// <summary>Beyond the next offset right after a claim or seek: seek to the next offset and check again.</summary>
    Reseek,
}

/// <summary>
/// This process's claim on a partition and where its consumption stands. <see cref="NextOffset"/> runs ahead of the
/// database by the uncommitted batches. Pure logic: the loop owns the Kafka calls.
/// </summary>
internal sealed class OwnedPartition(long epoch, long? nextOffset, DateTime claimedAt)
{
    public long Epoch { get; } = epoch;

    public long? NextOffset { get; private set; } = nextOffset;

    // Whether a message at the next offset has been seen since the claim or the last seek.
    private bool _positioned;

    // The first offset beyond the next one fetched after the last seek. librdkafka can lose a seek to a logical
    // offset lookup still in flight (librdkafka #2256, #2190; seen in the chaos soak after a deferred claim) and go
    // on fetching from elsewhere, so a gap after a seek is trusted only when fetching from the next offset returns
    // the same first message twice: a real gap (transaction markers, compaction) does, a lost seek does not.
    private long? _gapAt;

    private DateTime _lastAdvanced = claimedAt;

    public FetchedMessage Classify(long offset)
    {
        if (offset < NextOffset)
        {
            return FetchedMessage.Ignore;
        }

        if (!_positioned && offset > NextOffset && _gapAt != offset)
        {
            _gapAt = offset;
            return FetchedMessage.Reseek;
        }

        return FetchedMessage.Accept;
    }

    /// <summary>The message at <paramref name="offset"/> was accepted (written, skipped or dead-lettered).</summary>
    public void Advance(long offset, DateTime now)
    {
        _positioned = true;
        _gapAt = null;
        NextOffset = offset + 1;
        _lastAdvanced = now;
    }

    /// <summary>
    /// Whether fetching seems stuck: the partition has messages beyond the next offset (or its log end is unknown)
    /// yet none arrived for <paramref name="timeout"/>. A lost seek can leave a partition at its log end or paused.
    /// Only meaningful while the loop is not holding the partition back itself.
    /// </summary>
    public bool IsStalled(long? highWatermark, DateTime now, TimeSpan timeout) =>
        NextOffset is { } next && (highWatermark is null || highWatermark > next) && now - _lastAdvanced > timeout;

    /// <summary>The loop seeks to <see cref="NextOffset"/>, or resumes fetching after holding back: wait for messages afresh.</summary>
    public void Repositioned(DateTime now)
    {
        _positioned = false;
        _lastAdvanced = now;
    }
}
