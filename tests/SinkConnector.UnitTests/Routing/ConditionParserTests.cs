using SinkConnector.Configuration;
using SinkConnector.Configuration.Routing;

namespace SinkConnector.UnitTests.Routing;

public class ConditionParserTests
{
    private static Condition Parse(string text)
    {
        Assert.True(ConditionParser.TryParse(text, out var condition, out var error), error);
        return condition!;
    }

    private static string Fails(string text)
    {
        Assert.False(ConditionParser.TryParse(text, out _, out var error));
        return error!;
    }

    [Fact]
    public void Comparison_of_a_header_with_a_quoted_literal_names_the_header()
    {
        var comparison = Assert.IsType<Comparison>(Parse("header.event-type == \"order.created\""));

        Assert.Equal(SourceKind.Header, comparison.Source.Path!.Kind);
        Assert.Equal("event-type", comparison.Source.Path.HeaderName);
        Assert.Equal(ComparisonOperator.Equal, comparison.Operator);
        Assert.Equal(["order.created"], comparison.Literals);
        Assert.Equal("header.event-type == \"order.created\"", comparison.Text);
    }

    [Theory]
    [InlineData("value.kind != 'x'", ComparisonOperator.NotEqual, new[] { "x" })]
    [InlineData("value.a.b[2] in [\"x\", 'y', 3, true]", ComparisonOperator.In, new[] { "x", "y", "3", "true" })]
    [InlineData("key.id exists", ComparisonOperator.Exists, new string[0])]
    [InlineData("value.amount == -1.5e2", ComparisonOperator.Equal, new[] { "-1.5e2" })]
    [InlineData("source.table==\"orders\"", ComparisonOperator.Equal, new[] { "orders" })]
    public void Each_operator_parses_with_its_literals(string text, ComparisonOperator op, string[] literals)
    {
        var comparison = Assert.IsType<Comparison>(Parse(text));

        Assert.Equal(op, comparison.Operator);
        Assert.Equal(literals, comparison.Literals);
    }

    [Fact]
    public void Schema_is_the_writer_schema_name_not_a_path()
    {
        var comparison = Assert.IsType<Comparison>(Parse("schema == \"com.acme.Order\""));

        Assert.True(comparison.Source.IsSchemaName);
        Assert.Null(comparison.Source.Path);
    }

    [Fact]
    public void And_binds_tighter_than_or_and_not_tighter_than_and()
    {
        var or = Assert.IsType<OrCondition>(Parse("header.a exists or not header.b exists and header.c exists"));

        Assert.IsType<Comparison>(or.Left);
        var and = Assert.IsType<AndCondition>(or.Right);
        Assert.IsType<NotCondition>(and.Left);
    }

    [Fact]
    public void Parentheses_group()
    {
        var and = Assert.IsType<AndCondition>(Parse("(header.a exists or header.b exists) and header.c exists"));

        Assert.IsType<OrCondition>(and.Left);
    }

    [Fact]
    public void Backslash_escapes_the_quote_and_itself_only()
    {
        var comparison = Assert.IsType<Comparison>(Parse(@"header.x == ""a\""b\\c\n"""));

        Assert.Equal(@"a""b\c\n", comparison.Literals[0]);
    }

    [Theory]
    [InlineData("header.type == order", "'order' is not a literal; put text in quotes (\"order\")")]
    [InlineData("header.type = \"a\"", "at 13: expected '==' or '!='")]
    [InlineData("header.type", "expected ==, !=, in or exists after header.type at the end")]
    [InlineData("header.type == \"a", "unterminated text literal")]
    [InlineData("header.type in [\"a\"", "expected ',' or ']' at the end")]
    [InlineData("header.type in \"a\"", "expected '[' after in")]
    [InlineData("(header.a exists", "expected ')' at the end")]
    [InlineData("header.a exists header.b exists", "expected and, or or the end, found 'header.b'")]
    [InlineData("body.x == 1", "unknown source 'body'")]
    [InlineData("value..x exists", "empty path segment")]
    [InlineData("", "expected a source")]
    [InlineData("and == 1", "expected a source")]
    public void Errors_say_where_and_what_was_expected(string text, string reason) =>
        Assert.Contains(reason, Fails(text), StringComparison.Ordinal);
}
