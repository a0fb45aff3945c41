using System.Globalization;
using System.Text.RegularExpressions;

namespace SinkConnector.Configuration.Loading;

/// <summary>Parsing of the value syntaxes used in the YAML files: durations, sizes, topic names, listen addresses.</summary>
public static partial class ConfigValues
{
    private static readonly Dictionary<string, long> s_sizeUnits = new(StringComparer.OrdinalIgnoreCase)
    {
        [""] = 1,
        ["B"] = 1,
        ["KB"] = 1000,
        ["MB"] = 1000 * 1000,
        ["GB"] = 1000 * 1000 * 1000,
        ["KiB"] = 1L << 10,
        ["MiB"] = 1L << 20,
        ["GiB"] = 1L << 30,
    };

    private static readonly Dictionary<string, long> s_durationUnits = new(StringComparer.Ordinal)
    {
        ["ms"] = TimeSpan.TicksPerMillisecond,
        ["s"] = TimeSpan.TicksPerSecond,
        ["m"] = TimeSpan.TicksPerMinute,
        ["h"] = TimeSpan.TicksPerHour,
    };

    [GeneratedRegex(@"^(?<number>[0-9]+)\s*(?<unit>[A-Za-z]*)$")]
    private static partial Regex SizePattern();

    // Several parts are allowed (1m30s) because that is how Go and Kubernetes spell durations.
    [GeneratedRegex(@"^(?:(?<number>[0-9]+(?:\.[0-9]+)?)(?<unit>ms|s|m|h))+$")]
    private static partial Regex DurationPattern();

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex TopicPattern();

    // A host name or IPv4 address. Anything else would change the URL Kestrel is given ("*;x:1" is two URLs).
    [GeneratedRegex("^(?:[*+]|[A-Za-z0-9.-]+)$")]
    private static partial Regex ListenHostPattern();

    /// <summary>Parses <c>200ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>, <c>1.5s</c>, <c>1m30s</c>. A bare number is rejected: its unit would be a guess.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        var match = DurationPattern().Match(text);
        if (!match.Success)
        {
            return false;
        }

        // decimal, not double, so that 0.1s is exactly 100ms.
        decimal ticks = 0;
        var numbers = match.Groups["number"].Captures;
        var units = match.Groups["unit"].Captures;
        try
        {
            for (var i = 0; i < numbers.Count; i++)
            {
                ticks += decimal.Parse(numbers[i].Value, CultureInfo.InvariantCulture) * s_durationUnits[units[i].Value];
            }
        }
        catch (OverflowException)
        {
            return false;
        }

        if (ticks > TimeSpan.MaxValue.Ticks)
        {
            return false;
        }

        duration = TimeSpan.FromTicks((long)ticks);
        return true;
    }

    /// <summary>Parses a byte count: <c>1000000</c>, <c>10KB</c>/<c>10MB</c>/<c>1GB</c> (powers of 1000), <c>512KiB</c>/<c>16MiB</c>/<c>1GiB</c> (powers of 1024).</summary>
    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        var match = SizePattern().Match(text);
        if (!match.Success
            || !s_sizeUnits.TryGetValue(match.Groups["unit"].Value, out var unit)
            || !long.TryParse(match.Groups["number"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        try
        {
            bytes = checked(number * unit);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>Kafka's own rule for topic names; anything else would be rejected by the broker.</summary>
    public static bool IsValidTopicName(string topic) =>
        topic.Length <= 249 && topic is not ("." or "..") && TopicPattern().IsMatch(topic);

    /// <summary>Checks <c>host:port</c>; the host may be a name, an IPv4 address, <c>[IPv6]</c>, <c>*</c> or <c>+</c>. Port 0 picks a free port.</summary>
    public static bool IsValidListenAddress(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0)
        {
            return false;
        }

        var host = text[..colon];
        var hostOk = host.StartsWith('[')
            ? host.EndsWith(']') && System.Net.IPAddress.TryParse(host[1..^1], out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            : ListenHostPattern().IsMatch(host);
        return hostOk
            && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            && port <= 65535;
    }
}
