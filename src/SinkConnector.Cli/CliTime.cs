using System.Globalization;

namespace SinkConnector.Cli;

/// <summary>
/// The one way every command prints a point in time for people, the same as the log lines: ISO-8601 in UTC with
/// milliseconds. (JSON output keeps full precision; it is for programs.)
/// </summary>
internal static class CliTime
{
    public const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string Text(DateTimeOffset time) => time.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);
}
