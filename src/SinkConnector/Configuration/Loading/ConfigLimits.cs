namespace SinkConnector.Configuration.Loading;

/// <summary>
/// Bounds on what a configuration file may make the loader do. Real configurations stay far below each; a file
/// beyond one is hostile or broken, and is reported as a config error instead of exhausting memory, CPU or stack.
/// </summary>
public static class ConfigLimits
{
    /// <summary>
    /// Largest sink.yaml or mapping file read. A mapping with a thousand columns is about 60 KB; the limit stops a
    /// huge file (or a link to a device) from being read into memory whole.
    /// </summary>
    public const int MaxFileBytes = 1024 * 1024;

    /// <summary>
    /// Deepest nesting of YAML lists and mappings. The deepest valid key is <c>columns.NAME.from</c> (3 levels);
    /// the parser recurses per level and builds a key path per level, so 100,000 nested '[' would overflow the stack.
    /// </summary>
    public const int MaxYamlDepth = 64;

    /// <summary>
    /// Most YAML nodes that aliases (<c>*name</c>) may add to a file. Each alias repeats its anchor's whole subtree,
    /// so ten levels of ten aliases ("billion laughs") stand for 10^10 nodes; comparing or hashing such a key would
    /// run for minutes. Configurations use aliases, if at all, to share a few small blocks.
    /// </summary>
    public const int MaxAliasedNodes = 10_000;

    /// <summary>
    /// Longest duration accepted (<c>batch.max_latency</c>, <c>shutdown_grace</c>). Timers and librdkafka take
    /// milliseconds as a 32-bit integer (at most about 24.8 days); no sensible setting comes near a day.
    /// </summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(24);

    /// <summary>
    /// Deepest nesting of defaults in <c>${A:-${B:-...}}</c>. Two or three levels express any real fallback chain;
    /// the limit keeps the recursive expansion of a hostile value off the stack.
    /// </summary>
    public const int MaxInterpolationDepth = 8;
}
