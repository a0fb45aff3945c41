using SinkConnector.Engine;


namespace SinkConnector.UnitTests.Engine;

/// <summary>How the loop tells the next message from a stale fetch, a lost seek and a stuck partition.</summary>
public class OwnedPartitionTests
{
    private static readonly DateTime s_claimed = new(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public void Messages_before_the_claimed_offset_are_ignored_and_the_claimed_one_is_accepted()
    {
        var partition = new OwnedPartition(epoch: 3, nextOffset: 100, s_claimed);

        Assert.Equal(FetchedMessage.Ignore, partition.Classify(99));
        Assert.Equal(FetchedMessage.Accept, partition.Classify(100));
        partition.Advance(100, s_claimed);
        Assert.Equal(101, partition.NextOffset);
        Assert.Equal(FetchedMessage.Ignore, partition.Classify(100));
    }

    [Fact]
    public void A_lost_seek_that_fetches_on_from_elsewhere_is_sought_again_every_time_and_never_accepted()
    {
        var partition = new OwnedPartition(epoch: 1, nextOffset: 100, s_claimed);

        // librdkafka went on from its own position (say the log end at 250) instead of the claimed 100.
        Assert.Equal(FetchedMessage.Reseek, partition.Classify(250));
        partition.Repositioned(s_claimed);
        Assert.Equal(FetchedMessage.Reseek, partition.Classify(251));
        partition.Repositioned(s_claimed);
        Assert.Equal(FetchedMessage.Reseek, partition.Classify(252));
    }

    [Fact]
    public void A_real_gap_is_accepted_once_fetching_from_the_claimed_offset_returns_the_same_first_message_again()
    {
        var partition = new OwnedPartition(epoch: 1, nextOffset: 100, s_claimed);

        // Offsets 100 and 101 are transaction markers: the first message really is 102.
        Assert.Equal(FetchedMessage.Reseek, partition.Classify(102));
        partition.Repositioned(s_claimed);
        Assert.Equal(FetchedMessage.Accept, partition.Classify(102));
        partition.Advance(102, s_claimed);

        // Once positioned, later gaps need no check: fetching is sequential.
        Assert.Equal(FetchedMessage.Accept, partition.Classify(110));
    }

    [Fact]
    public void Without_a_stored_offset_every_first_message_is_accepted()
    {
        var partition = new OwnedPartition(epoch: 1, nextOffset: null, s_claimed);

        Assert.Equal(FetchedMessage.Accept, partition.Classify(42));
        Assert.False(partition.IsStalled(highWatermark: 1000, s_claimed.AddHours(1), s_timeout));
    }

    [Fact]
    public void A_partition_is_stalled_only_with_messages_to_fetch_and_none_arriving_for_the_timeout()
    {
        var partition = new OwnedPartition(epoch: 1, nextOffset: 100, s_claimed);
        var later = s_claimed + s_timeout + TimeSpan.FromSeconds(1);

        Assert.False(partition.IsStalled(highWatermark: 200, s_claimed + TimeSpan.FromSeconds(5), s_timeout));
        Assert.False(partition.IsStalled(highWatermark: 100, later, s_timeout));
        Assert.True(partition.IsStalled(highWatermark: 200, later, s_timeout));
        Assert.True(partition.IsStalled(highWatermark: null, later, s_timeout));

        partition.Advance(100, later);
        Assert.False(partition.IsStalled(highWatermark: 200, later + TimeSpan.FromSeconds(5), s_timeout));
        partition.Repositioned(later + s_timeout);
        Assert.False(partition.IsStalled(highWatermark: 200, later + s_timeout + TimeSpan.FromSeconds(5), s_timeout));
    }

    [Fact]
    public void Accepted_messages_that_no_commit_moves_for_the_timeout_are_a_commit_stall_even_at_the_log_end()
    {
        var partition = new OwnedPartition(epoch: 1, nextOffset: 100, s_claimed);
        var commitTimeout = TimeSpan.FromSeconds(60);

        // Nothing accepted, nothing to commit: an idle partition never stalls, however long it idles.
        Assert.False(partition.IsCommitStalled(s_claimed.AddHours(1), commitTimeout));

        // The issue-22 state: two batches of 500 accepted up to the log end, neither committed.
        var accepted = s_claimed.AddHours(1);
        partition.Advance(599, accepted);
        partition.Advance(1099, accepted);
        Assert.False(partition.IsStalled(highWatermark: 1100, accepted.AddMinutes(5), s_timeout));
        Assert.False(partition.IsCommitStalled(accepted.AddSeconds(60), commitTimeout));
        Assert.True(partition.IsCommitStalled(accepted.AddSeconds(61), commitTimeout));
        Assert.Equal(100, partition.Committed);

        // Reported: again only after a further timeout.
        partition.CommitStallReported(accepted.AddSeconds(61));
        Assert.False(partition.IsCommitStalled(accepted.AddSeconds(100), commitTimeout));
        Assert.True(partition.IsCommitStalled(accepted.AddSeconds(122), commitTimeout));
    }

    [Fact]
    public void A_commit_that_moves_the_partition_restarts_the_wait_and_one_that_reaches_the_next_offset_ends_it()
    {
        var partition = new OwnedPartition(epoch: 1, nextOffset: 100, s_claimed);
        var commitTimeout = TimeSpan.FromSeconds(60);
        partition.Advance(599, s_claimed);
        partition.Advance(1099, s_claimed.AddSeconds(1));

        partition.CommittedUpTo(600, s_claimed.AddSeconds(50));
        Assert.Equal(600, partition.Committed);
        Assert.False(partition.IsCommitStalled(s_claimed.AddSeconds(100), commitTimeout));
        Assert.True(partition.IsCommitStalled(s_claimed.AddSeconds(111), commitTimeout));

        // A commit result that arrives late (an older batch) never moves the committed offset back.
        partition.CommittedUpTo(300, s_claimed.AddSeconds(112));
        Assert.Equal(600, partition.Committed);
        Assert.True(partition.IsCommitStalled(s_claimed.AddSeconds(113), commitTimeout));

        partition.CommittedUpTo(1100, s_claimed.AddSeconds(114));
        Assert.False(partition.IsCommitStalled(s_claimed.AddHours(1), commitTimeout));

        // Messages accepted long after the last commit wait from their acceptance, not from that commit.
        partition.Advance(1100, s_claimed.AddHours(2));
        Assert.False(partition.IsCommitStalled(s_claimed.AddHours(2).AddSeconds(30), commitTimeout));
        Assert.True(partition.IsCommitStalled(s_claimed.AddHours(2).AddSeconds(61), commitTimeout));
    }

    [Fact]
    public void Without_a_stored_offset_the_first_commit_sets_the_committed_offset()
    {
        var partition = new OwnedPartition(epoch: 1, nextOffset: null, s_claimed);
        Assert.Null(partition.Committed);
        partition.Advance(41, s_claimed);
        partition.Advance(42, s_claimed);
        Assert.True(partition.IsCommitStalled(s_claimed.AddSeconds(61), TimeSpan.FromSeconds(60)));

        partition.CommittedUpTo(43, s_claimed.AddSeconds(62));
        Assert.Equal(43, partition.Committed);
        Assert.False(partition.IsCommitStalled(s_claimed.AddHours(1), TimeSpan.FromSeconds(60)));
    }
}
