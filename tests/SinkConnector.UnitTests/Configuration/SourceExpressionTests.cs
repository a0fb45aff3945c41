using SinkConnector.Configuration;

namespace SinkConnector.UnitTests.Configuration;

/// <summary>The <c>from:</c> language: source paths, 'constants', now() and concat(...).</summary>
public class SourceExpressionTests
{
    private static SourcePath Parses(string text)
    {
        Assert.True(SourceExpression.TryParse(text, out var path, out var error), error);
        return path!;
    }

    private static string Fails(string text)
    {
        Assert.False(SourceExpression.TryParse(text, out var path, out var error));
        Assert.Null(path);
        return error!;
    }

    [Theory]
    [InlineData("'web'", "web")]
    [InlineData("''", "")]
    [InlineData("'it''s'", "it's")]
    [InlineData("  'a, b (c)'  ", "a, b (c)")]
    public void A_quoted_constant_is_its_text_with_doubled_quotes_as_one(string text, string literal)
    {
        var path = Parses(text);

        Assert.Equal((SourceKind.Constant, literal), (path.Kind, path.Literal));
        Assert.True(path.IsComputed);
    }

    [Theory]
    [InlineData("now()")]
    [InlineData("NOW( )")]
    public void Now_takes_no_arguments(string text) => Assert.Equal(SourceKind.Now, Parses(text).Kind);

    [Fact]
    public void Concat_takes_source_paths_and_constants_in_order()
    {
        var path = Parses("concat(key.region, '-', key.id, header.x-src, ', ')");

        Assert.Equal(SourceKind.Concat, path.Kind);
        Assert.Equal(
            [(SourceKind.Key, "key.region"), (SourceKind.Constant, "'-'"), (SourceKind.Key, "key.id"), (SourceKind.Header, "header.x-src"), (SourceKind.Constant, "', '")],
            path.Parts.Select(p => (p.Kind, p.Text)));
        Assert.Equal("x-src", path.Parts[3].HeaderName);
    }

    [Theory]
    [InlineData("value.id", SourceKind.Value)]
    [InlineData("header.trace-id", SourceKind.Header)]
    [InlineData("offset", SourceKind.Offset)]
    public void Anything_else_is_a_source_path_as_before(string text, SourceKind kind)
    {
        var path = Parses(text);

        Assert.Equal(kind, path.Kind);
        Assert.False(path.IsComputed);
    }

    [Theory]
    [InlineData("'web", "the constant has no closing quote")]
    [InlineData("'web' x", "unexpected text after the closing quote")]
    [InlineData("now(1)", "now() takes no arguments")]
    [InlineData("upper(value.a)", "unknown function 'upper()'")]
    [InlineData("concat(value.a)", "concat needs at least two arguments")]
    [InlineData("concat(value.a, )", "empty argument")]
    [InlineData("concat(value.a, 'b)", "a constant has no closing quote")]
    [InlineData("concat(value.a, now())", "argument 2: concat takes source paths and 'constants', not function calls")]
    [InlineData("concat(value.a, nope.b)", "argument 2: unknown source 'nope'")]
    [InlineData("concat(value.a, 'b'", "must end with ')'")]
    public void A_bad_expression_says_why(string text, string reason) => Assert.Contains(reason, Fails(text), StringComparison.Ordinal);
}
