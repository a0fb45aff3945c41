namespace SinkConnector.Configuration.Routing;

/// <summary>
/// A parsed <c>when:</c> or <c>skip_when:</c> of a mapping (<see cref="ConditionParser"/>): comparisons of message
/// sources with literals, combined with <c>and</c>, <c>or</c>, <c>not</c>.
/// </summary>
public abstract record Condition
{
    /// <summary>The text it was parsed from, for logs and <c>sink validate</c>.</summary>
    public required string Text { get; init; }
}

public sealed record AndCondition(Condition Left, Condition Right) : Condition;

public sealed record OrCondition(Condition Left, Condition Right) : Condition;

public sealed record NotCondition(Condition Inner) : Condition;

/// <summary><c>source == "a"</c>, <c>source != "a"</c>, <c>source in ["a", "b"]</c> or <c>source exists</c>.</summary>
/// <param name="Literals">One for == and !=, any number for in, none for exists.</param>
public sealed record Comparison(ConditionSource Source, ComparisonOperator Operator, IReadOnlyList<string> Literals) : Condition;

public enum ComparisonOperator
{
    Equal,
    NotEqual,
    In,
    Exists,
}

/// <summary>What a comparison reads: a <c>from:</c> source path, or (<see cref="IsSchemaName"/>) the value's writer schema name.</summary>
public sealed record ConditionSource(SourcePath? Path, bool IsSchemaName)
{
    public override string ToString() => IsSchemaName ? "schema" : Path!.Text;
}
