namespace SinkConnector.Mapping.Routing;

/// <summary>Whether a mapping takes a message, and if not, which of its conditions left it out.</summary>
public enum FilterVerdict
{
    Take,

    /// <summary>The mapping's <c>when:</c> does not hold.</summary>
    NotWhen,

    /// <summary>The mapping's <c>skip_when:</c> holds.</summary>
    SkipWhen,
}
