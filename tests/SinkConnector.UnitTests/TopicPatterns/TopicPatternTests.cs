using SinkConnector.Configuration;

namespace SinkConnector.UnitTests.TopicPatterns;

public sealed class TopicPatternTests
{
    [Theory]
    [InlineData("shop\\..*", "^(shop\\..*)$")]
    [InlineData("(?<tenant>[a-z]+)\\.events", "^(([a-z]+)\\.events)$")]
    [InlineData("a|b[0-9]{2,3}", "^(a|b[0-9]{2,3})$")]
    [InlineData("[]a-]x", "^([]a-]x)$")]
    public void The_subscription_is_the_whole_name_anchored_with_named_groups_unnamed_for_librdkafka(string text, string subscription)
    {
        Assert.True(TopicPattern.TryParse(text, out var pattern, out var error), error);
        Assert.Equal(subscription, pattern!.Subscription);
    }

    [Fact]
    public void A_pattern_matches_whole_topic_names_only()
    {
        Assert.True(TopicPattern.TryParse("shop\\.[a-z]+", out var pattern, out _));

        Assert.NotNull(pattern!.Match("shop.orders"));
        Assert.Null(pattern.Match("shop.orders.v2"));
        Assert.Null(pattern.Match("old.shop.orders"));
        Assert.Null(pattern.Match("shopXorders"));
    }

    [Theory]
    [InlineData("shop\\.\\d+", "'\\d' is not POSIX ERE")]
    [InlineData("\\w+", "'\\w' is not POSIX ERE")]
    [InlineData("(a)\\1", "'\\1' is not POSIX ERE")]
    [InlineData("(?:a|b)c", "non-capturing, lookaround or inline option")]
    [InlineData("a(?=b)", "non-capturing, lookaround or inline option")]
    [InlineData("a(?<!b)", "non-capturing, lookaround or inline option")]
    [InlineData("(?i)abc", "non-capturing, lookaround or inline option")]
    [InlineData("a.*?b", "lazy or possessive quantifier (*?)")]
    [InlineData("a++", "lazy or possessive quantifier (++)")]
    [InlineData("a{2}?", "lazy or possessive quantifier (}?)")]
    [InlineData("[\\d]x", "backslash inside [...]")]
    [InlineData("[[:alpha:]]x", "POSIX class ([:alpha:])")]
    [InlineData("[abc", "has a '[' without its ']'")]
    [InlineData("ab\\", "ends with a lone backslash")]
    [InlineData("(ab", "is not a regular expression")]
    [InlineData("", "is empty")]
    [InlineData("(?<2>[a-z]+)\\.([a-z]+)", "'(?<2>[a-z]+)\\.([a-z]+)' numbers its group (2) explicitly, which collides with the numbers {1}, {2}, ... table templates give the unnamed groups")]
    [InlineData("([a-z]+)\\.(?<1>[a-z]+)", "numbers its group (1) explicitly")]
    [InlineData("(?<a>x)(?<b-a>y)", "'(?<b-a>y)' is a balancing group (?<b-a>...), which POSIX ERE does not have")]
    [InlineData("(?<a>x)(?<-a>y)", "is a balancing group (?<-a>...)")]
    public void Constructs_librdkafka_cannot_take_are_refused_with_the_reason(string text, string reason)
    {
        Assert.False(TopicPattern.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
