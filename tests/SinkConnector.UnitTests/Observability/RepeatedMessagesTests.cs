using SinkConnector.Observability;


namespace SinkConnector.UnitTests.Observability;

public class RepeatedMessagesTests
{
    private static readonly DateTime s_start = new(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void A_repeated_message_is_admitted_once_per_window_and_its_repeats_are_summarized()
    {
        var messages = new RepeatedMessages(TimeSpan.FromSeconds(30));
        Assert.True(messages.Admit("1/1 brokers are down", s_start));
        for (var i = 1; i <= 100; i++)
        {
            Assert.False(messages.Admit("1/1 brokers are down", s_start.AddMilliseconds(50 * i)));
        }

        Assert.Empty(messages.TakeSummaries(s_start.AddSeconds(10)));
        Assert.Equal([("1/1 brokers are down", 100)], messages.TakeSummaries(s_start.AddSeconds(30)));
        Assert.Empty(messages.TakeSummaries(s_start.AddSeconds(31)));
        // Forgotten once summarized: the next occurrence is logged again.
        Assert.True(messages.Admit("1/1 brokers are down", s_start.AddSeconds(40)));
    }

    [Fact]
    public void Messages_that_differ_only_in_numbers_count_as_one_and_others_are_admitted()
    {
        var messages = new RepeatedMessages(TimeSpan.FromSeconds(30));
        Assert.True(messages.Admit("Connect failed (after 0ms in state CONNECT)", s_start));
        Assert.False(messages.Admit("Connect failed (after 12ms in state CONNECT)", s_start.AddSeconds(1)));
        Assert.True(messages.Admit("Request timed out", s_start.AddSeconds(1)));
    }

    [Fact]
    public void Repeats_counted_before_a_window_ends_are_summarized_even_when_the_message_comes_back_first()
    {
        var messages = new RepeatedMessages(TimeSpan.FromSeconds(30));
        messages.Admit("down", s_start);
        messages.Admit("down", s_start.AddSeconds(1));
        Assert.True(messages.Admit("down", s_start.AddSeconds(31)));
        Assert.Equal([("down", 1)], messages.TakeSummaries(s_start.AddSeconds(32)));
    }
}
