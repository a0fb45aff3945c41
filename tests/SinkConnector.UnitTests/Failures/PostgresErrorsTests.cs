using Npgsql;
using SinkConnector.Failures;

namespace SinkConnector.UnitTests.Failures;

public sealed class PostgresErrorsTests
{
    private static PostgresException Error(string sqlState) => new("message", "FATAL", "FATAL", sqlState);

    [Theory]
    [InlineData("25P03")] // idle_in_transaction_session_timeout: a frozen process's batch, written again
    [InlineData("40P01")] // deadlock
    [InlineData("57P01")] // admin shutdown
    [InlineData("08006")] // connection failure
    public void Errors_a_retry_can_get_past_are_transient(string sqlState)
    {
        Assert.True(PostgresErrors.IsTransient(Error(sqlState)));
        Assert.True(PostgresErrors.IsTransient(new InvalidOperationException("wrapped", Error(sqlState))));
    }

    [Theory]
    [InlineData("23503")] // foreign key violation
    [InlineData("42P01")] // undefined table
    public void Data_and_schema_errors_are_not_transient(string sqlState)
    {
        Assert.False(PostgresErrors.IsTransient(Error(sqlState)));
    }
}
