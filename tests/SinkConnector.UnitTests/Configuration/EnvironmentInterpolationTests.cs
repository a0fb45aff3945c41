using SinkConnector.Configuration.Loading;

namespace SinkConnector.UnitTests.Configuration;

public class EnvironmentInterpolationTests
{
    private static readonly Dictionary<string, string> s_environment = new()
    {
        ["HOST"] = "kafka",
        ["PORT"] = "9092",
        ["EMPTY"] = "",
    };

    [Theory]
    [InlineData("${HOST}:${PORT}", "kafka:9092")]
    [InlineData("no references", "no references")]
    [InlineData("${MISSING:-fallback}", "fallback")]
    [InlineData("${EMPTY:-fallback}", "fallback")]
    [InlineData("${MISSING:-}", "")]
    [InlineData("${EMPTY}", "")]
    [InlineData("$${HOST}", "${HOST}")]
    [InlineData("cost: $5", "cost: $5")]
    [InlineData("${MISSING:-${HOST}}", "kafka")]
    [InlineData("${MISSING:-${ALSO_MISSING:-${PORT}}}:x", "9092:x")]
    [InlineData("${HOST:-${MISSING}}", "kafka")]
    [InlineData("${MISSING:-$${HOST}}", "${HOST}")]
    public void References_are_replaced_from_the_environment(string text, string expected)
    {
        var problems = new List<string>();
        Assert.Equal(expected, EnvironmentInterpolation.Expand(text, s_environment.GetValueOrDefault, problems));
        Assert.Empty(problems);
    }

    [Theory]
    [InlineData("${MISSING}", "environment variable MISSING is not set")]
    [InlineData("${HOST", "unterminated")]
    [InlineData("${1X}", "not a valid variable reference")]
    [InlineData("${MISSING:-${ALSO_MISSING}}", "environment variable ALSO_MISSING is not set")]
    [InlineData("${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-x}}}}}}}}}", "nested more than 8 levels deep")]
    public void Bad_or_unset_references_are_problems(string text, string problem)
    {
        var problems = new List<string>();
        Assert.Null(EnvironmentInterpolation.Expand(text, s_environment.GetValueOrDefault, problems));
        Assert.Contains(problems, p => p.Contains(problem, StringComparison.Ordinal));
    }
}
