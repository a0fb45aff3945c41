namespace SinkConnector.Configuration;

/// <summary>One problem in a configuration file.</summary>
/// <param name="File">Path of the file (or directory) the problem is in.</param>
/// <param name="Key">Dotted YAML path such as <c>columns.amount.type</c>; empty when the problem concerns the whole file.</param>
/// <param name="Reason">What is wrong, phrased so that the fix is obvious.</param>
public sealed record ConfigError(string File, string Key, string Reason)
{
    public override string ToString() => Key.Length == 0 ? $"{File}: {Reason}" : $"{File}: {Key}: {Reason}";
}
