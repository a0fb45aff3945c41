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
/// database by the uncommitted batches; <see cref="Committed"/> is what the database holds. Pure logic: the loop owns
/// the Kafka calls.
/// </summary>
internal sealed class OwnedPartition(long epoch, long? nextOffset, DateTime claimedAt)
{
    public long Epoch { get; } = epoch;

    public long? NextOffset { get; private set; } = nextOffset;

    /// <summary>The next offset stored in the database under this claim: the claimed one, then each commit's.</summary>
    public long? Committed { get; private set; } = nextOffset;

    // Since when accepted messages wait to be committed (null: none wait), and when the last commit moved this
    // partition or its stall was last reported.
    private DateTime? _uncommittedSince;
    private DateTime _lastCommitProgress = claimedAt;

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
        _uncommittedSince ??= now;
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

    /// <summary>A write committed this claim's messages up to <paramref name="nextOffset"/>.</summary>
    public void CommittedUpTo(long nextOffset, DateTime now)
    {
        if (Committed is { } committed && nextOffset <= committed)
        {
            return;
        }

        Committed = nextOffset;
        _lastCommitProgress = now;
        if (nextOffset >= NextOffset)
        {
            _uncommittedSince = null;
        }
    }

    /// <summary>
    /// Whether committing seems stuck: messages were accepted (fetching works) but none of them reached the database
    /// for <paramref name="timeout"/>: a batch lost between the loop's parts, or a write that never ends. The fetch
    /// side (<see cref="IsStalled"/>) cannot see it, as the next offset has reached the log end. True again only a
    /// further <paramref name="timeout"/> after <see cref="CommitStallReported"/>.
    /// </summary>
    public bool IsCommitStalled(DateTime now, TimeSpan timeout) =>
        _uncommittedSince is { } waiting && now - (waiting > _lastCommitProgress ? waiting : _lastCommitProgress) > timeout;

    public void CommitStallReported(DateTime now) => _lastCommitProgress = now;

    /// <summary>The loop seeks to <see cref="NextOffset"/>, or resumes fetching after holding back: wait for messages afresh.</summary>
    public void Repositioned(DateTime now)
    {
        _positioned = false;
        _lastAdvanced = now;
    }
}
