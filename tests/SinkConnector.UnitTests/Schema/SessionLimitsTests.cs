using SinkConnector.Schema;

namespace SinkConnector.UnitTests.Schema;

/// <summary>The statement_timeout the sink's sessions run with: the default it sets, or the connection string's own.</summary>
public sealed class SessionLimitsTests
{
    [Theory]
    [InlineData(null, 60_000)]
    [InlineData("", 60_000)]
    [InlineData("-c search_path=x", 60_000)]
    [InlineData("-c statement_timeout=5min", 300_000)]
    [InlineData("-c statement_timeout=2500", 2_500)]
    [InlineData("-c statement_timeout=250ms", 250)]
    [InlineData("-c statement_timeout=90s -c statement_timeout=2h", 7_200_000)]
    [InlineData("-c statement_timeout=0", 0)]
    public void The_last_statement_timeout_in_the_options_wins_in_postgres_units(string? options, long milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), SessionLimits.StatementTimeout(options));

    [Fact]
    public void The_sink_sets_its_limits_ahead_of_the_connection_strings_options()
    {
        Assert.Equal("-c idle_in_transaction_session_timeout=30s -c statement_timeout=60s", SessionLimits.Options);
        Assert.Equal(TimeSpan.FromSeconds(60), SessionLimits.StatementTimeout(SessionLimits.Options + " -c search_path=x"));
    }
}
