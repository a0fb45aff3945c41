using SinkConnector.Configuration;

namespace SinkConnector.UnitTests.Configuration;

public class PostgresIdentifiersTests
{
    [Theory]
    [InlineData("public.orders", "public", "orders")]
    [InlineData("orders", "public", "orders")]
    [InlineData("Sales.Orders", "Sales", "Orders")]
    [InlineData("\"my.schema\".\"order.lines\"", "my.schema", "order.lines")]
    [InlineData("app.\"say \"\"hi\"\"\"", "app", "say \"hi\"")]
    public void Table_names_default_to_public_and_accept_quoted_parts(string text, string schema, string name)
    {
        Assert.True(PostgresIdentifiers.TryParseTableName(text, out var table, out var error), error);
        Assert.Equal(new TableName(schema, name), table);
    }

    [Theory]
    [InlineData("", "table name is empty")]
    [InlineData("public.", "table name is empty")]
    [InlineData(".orders", "schema name is empty")]
    [InlineData("a.b.c", "3 parts")]
    [InlineData("\"open.orders", "unterminated")]
    [InlineData("\"a\"b.c", "expected '.'")]
    [InlineData("a\"b\".c", "quote")]
    [InlineData("\"\".orders", "schema name is empty")]
    public void Malformed_table_names_are_rejected_with_a_reason(string text, string reason)
    {
        Assert.False(PostgresIdentifiers.TryParseTableName(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Identifiers_longer_than_63_bytes_are_rejected_counting_utf8_bytes()
    {
        Assert.True(PostgresIdentifiers.TryValidateQuotedIdentifier(new string('a', 63), out _));
        Assert.False(PostgresIdentifiers.TryValidateQuotedIdentifier(new string('é', 32), out var error));
        Assert.Contains("63 bytes", error, StringComparison.Ordinal);
    }
}
