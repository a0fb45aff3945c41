using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SinkConnector.Configuration;

/// <summary>Parsing of the value syntaxes used in the YAML files: durations, sizes, identifiers, table names.</summary>
public static partial class ConfigValues
{
    /// <summary>Postgres truncates longer identifiers silently (NAMEDATALEN - 1), which would make two names collide.</summary>
    public const int MaxIdentifierBytes = 63;

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

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex PlainIdentifierPattern();

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex TopicPattern();

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

    /// <summary>An identifier that is safe to use unquoted and unchanged: <c>[A-Za-z_][A-Za-z0-9_]*</c>, at most 63 characters.</summary>
    public static bool IsPlainIdentifier(string text) =>
        text.Length <= MaxIdentifierBytes && PlainIdentifierPattern().IsMatch(text);

    /// <summary>
    /// Checks a name that is always quoted in SQL (column, table, schema): anything goes except NUL,
    /// which Postgres cannot store, and a length Postgres would truncate.
    /// </summary>
    public static bool TryValidateQuotedIdentifier(string name, out string? error)
    {
        error = name.Length == 0 ? "is empty"
            : name.Contains('\0', StringComparison.Ordinal) ? "contains a NUL character"
            : Encoding.UTF8.GetByteCount(name) > MaxIdentifierBytes ? $"'{name}' is longer than {MaxIdentifierBytes} bytes"
            : null;
        return error is null;
    }

    /// <summary>
    /// Parses <c>schema.table</c> or <c>table</c> (schema <c>public</c>). Either part may be double-quoted to contain
    /// dots (<c>""</c> inside quotes is a literal quote). Names keep their case: they are always quoted in SQL.
    /// </summary>
    public static bool TryParseTableName(string text, out TableName? table, out string? error)
    {
        table = null;
        var parts = new List<string>();
        var i = 0;
        while (true)
        {
            if (!TryReadNamePart(text, ref i, out var part, out error))
            {
                return false;
            }

            parts.Add(part);
            if (i == text.Length)
            {
                break;
            }

            i++; // the '.' separator
        }

        if (parts.Count > 2)
        {
            error = $"'{text}' has {parts.Count} parts; expected schema.table or table (quote names that contain dots)";
            return false;
        }

        var (schema, name) = parts.Count == 2 ? (parts[0], parts[1]) : ("public", parts[0]);
        if (!TryValidateQuotedIdentifier(schema, out error))
        {
            error = $"schema name {error}";
            return false;
        }

        if (!TryValidateQuotedIdentifier(name, out error))
        {
            error = $"table name {error}";
            return false;
        }

        table = new TableName(schema, name);
        return true;
    }

    private static bool TryReadNamePart(string text, ref int i, out string part, out string? error)
    {
        part = "";
        error = null;
        if (i < text.Length && text[i] == '"')
        {
            var builder = new StringBuilder();
            i++;
            while (true)
            {
                if (i >= text.Length)
                {
                    error = $"'{text}': unterminated quoted name";
                    return false;
                }

                if (text[i] == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        builder.Append('"');
                        i += 2;
                        continue;
                    }

                    i++;
                    break;
                }

                builder.Append(text[i++]);
            }

            part = builder.ToString();
            if (i < text.Length && text[i] != '.')
            {
                error = $"'{text}': expected '.' after a quoted name";
                return false;
            }

            return true;
        }

        var end = text.IndexOf('.', i);
        end = end < 0 ? text.Length : end;
        part = text[i..end];
        i = end;
        if (part.Contains('"', StringComparison.Ordinal))
        {
            error = $"'{text}': a quote may only surround a whole name";
            return false;
        }

        return true;
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
        var hostOk = host.StartsWith('[') ? host.EndsWith(']') && host.Length > 2 : !host.Contains(':', StringComparison.Ordinal);
        return hostOk
            && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            && port <= 65535;
    }
}
