using System.Globalization;
using System.Text.RegularExpressions;

namespace SinkConnector.Mapping.Conversion;

/// <summary>
/// Interval text: ISO-8601 durations (<c>P1Y2M3DT4H5M6.5S</c>, <c>P2W</c>, <c>-P1D</c>, <c>P-1DT2H</c>) and Postgres'
/// own output forms (<c>1 year 2 mons 3 days 04:05:06.5</c>, <c>-1 days +02:00:00</c>, <c>@ 1 hour ago</c>). Months, days
/// and time stay apart as in Postgres (a month is not 30 days, a day not 24 hours); only seconds may have a fraction,
/// to at most six digits, so no value is rounded.
/// </summary>
internal static partial class IntervalText
{
    private const long MicrosPerSecond = 1_000_000;

    [GeneratedRegex(@"^(?<sign>[-+])?P(?!$)(?:(?<y>[-+]?\d+)Y)?(?:(?<mo>[-+]?\d+)M)?(?:(?<w>[-+]?\d+)W)?(?:(?<d>[-+]?\d+)D)?(?:T(?!$)(?:(?<h>[-+]?\d+)H)?(?:(?<mi>[-+]?\d+)M)?(?:(?<s>[-+]?\d+(?:[.,]\d{1,6})?)S)?)?$", RegexOptions.IgnoreCase)]
    private static partial Regex Iso();

    [GeneratedRegex(@"^(?<sign>[-+])?(?<h>\d+):(?<m>\d{1,2})(?::(?<s>\d{1,2}(?:\.\d{1,6})?))?$")]
    private static partial Regex Clock();

    private static readonly Dictionary<string, (int Months, int Days, long Micros)> s_units = new(StringComparer.OrdinalIgnoreCase)
    {
        ["millennium"] = (12000, 0, 0), ["millennia"] = (12000, 0, 0), ["millenniums"] = (12000, 0, 0),
        ["century"] = (1200, 0, 0), ["centuries"] = (1200, 0, 0),
        ["decade"] = (120, 0, 0), ["decades"] = (120, 0, 0),
        ["year"] = (12, 0, 0), ["years"] = (12, 0, 0), ["yr"] = (12, 0, 0), ["yrs"] = (12, 0, 0), ["y"] = (12, 0, 0),
        ["month"] = (1, 0, 0), ["months"] = (1, 0, 0), ["mon"] = (1, 0, 0), ["mons"] = (1, 0, 0),
        ["week"] = (0, 7, 0), ["weeks"] = (0, 7, 0), ["w"] = (0, 7, 0),
        ["day"] = (0, 1, 0), ["days"] = (0, 1, 0), ["d"] = (0, 1, 0),
        ["hour"] = (0, 0, 3600 * MicrosPerSecond), ["hours"] = (0, 0, 3600 * MicrosPerSecond), ["h"] = (0, 0, 3600 * MicrosPerSecond), ["hr"] = (0, 0, 3600 * MicrosPerSecond), ["hrs"] = (0, 0, 3600 * MicrosPerSecond),
        ["minute"] = (0, 0, 60 * MicrosPerSecond), ["minutes"] = (0, 0, 60 * MicrosPerSecond), ["min"] = (0, 0, 60 * MicrosPerSecond), ["mins"] = (0, 0, 60 * MicrosPerSecond), ["m"] = (0, 0, 60 * MicrosPerSecond),
        ["second"] = (0, 0, MicrosPerSecond), ["seconds"] = (0, 0, MicrosPerSecond), ["sec"] = (0, 0, MicrosPerSecond), ["secs"] = (0, 0, MicrosPerSecond), ["s"] = (0, 0, MicrosPerSecond),
        ["millisecond"] = (0, 0, 1000), ["milliseconds"] = (0, 0, 1000), ["ms"] = (0, 0, 1000), ["msec"] = (0, 0, 1000), ["msecs"] = (0, 0, 1000),
        ["microsecond"] = (0, 0, 1), ["microseconds"] = (0, 0, 1), ["us"] = (0, 0, 1), ["usec"] = (0, 0, 1), ["usecs"] = (0, 0, 1),
    };

    public enum Result
    {
        Ok,
        NotAnInterval,
        OutOfRange,
    }

    public static Result TryParse(string text, out int months, out int days, out long micros)
    {
        months = 0;
        days = 0;
        micros = 0;
        var trimmed = text.Trim();
        try
        {
            var iso = Iso().Match(trimmed);
            if (iso.Success)
            {
                checked
                {
                    var sign = iso.Groups["sign"].Value == "-" ? -1 : 1;
                    months = (int)(sign * ((Int(iso, "y") * 12) + Int(iso, "mo")));
                    days = (int)(sign * ((Int(iso, "w") * 7) + Int(iso, "d")));
                    micros = sign * ((Int(iso, "h") * 3600 * MicrosPerSecond) + (Int(iso, "mi") * 60 * MicrosPerSecond) + Seconds(iso.Groups["s"].Value.Replace(',', '.')));
                }

                return Result.Ok;
            }

            return TryPostgres(trimmed, out months, out days, out micros) ? Result.Ok : Result.NotAnInterval;
        }
        catch (OverflowException)
        {
            return Result.OutOfRange;
        }
    }

    /// <summary>Postgres' verbose and plain output: number-unit pairs, an optional clock time, '@' and 'ago'.</summary>
    private static bool TryPostgres(string text, out int months, out int days, out long micros)
    {
        months = 0;
        days = 0;
        micros = 0;
        var tokens = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (tokens.Count > 0 && tokens[0] == "@")
        {
            tokens.RemoveAt(0);
        }

        var ago = tokens.Count > 0 && tokens[^1].Equals("ago", StringComparison.OrdinalIgnoreCase);
        if (ago)
        {
            tokens.RemoveAt(tokens.Count - 1);
        }

        if (tokens.Count == 0)
        {
            return false;
        }

        var sawClock = false;
        for (var i = 0; i < tokens.Count; i++)
        {
            var clock = Clock().Match(tokens[i]);
            if (clock.Success && !sawClock)
            {
                sawClock = true;
                var sign = clock.Groups["sign"].Value == "-" ? -1 : 1;
                checked
                {
                    micros += sign * ((long.Parse(clock.Groups["h"].Value, CultureInfo.InvariantCulture) * 3600 * MicrosPerSecond)
                        + (long.Parse(clock.Groups["m"].Value, CultureInfo.InvariantCulture) * 60 * MicrosPerSecond)
                        + (clock.Groups["s"].Success ? Seconds(clock.Groups["s"].Value) : 0));
                }

                continue;
            }

            if (i + 1 >= tokens.Count || !s_units.TryGetValue(tokens[i + 1], out var unit))
            {
                return false;
            }

            if (unit.Micros == 0 || unit.Micros < MicrosPerSecond)
            {
                // Months, days and sub-second units take whole numbers: a fraction would have to be rounded.
                if (!long.TryParse(tokens[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var count))
                {
                    return false;
                }

                checked
                {
                    months += (int)(count * unit.Months);
                    days += (int)(count * unit.Days);
                    micros += count * unit.Micros;
                }
            }
            else
            {
                if (!decimal.TryParse(tokens[i], NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
                {
                    return false;
                }

                var exact = amount * unit.Micros;
                if (exact != decimal.Truncate(exact))
                {
                    return false;
                }

                checked
                {
                    micros += (long)exact;
                }
            }

            i++;
        }

        if (ago)
        {
            checked
            {
                months = -months;
                days = -days;
                micros = -micros;
            }
        }

        return true;
    }

    private static long Int(Match match, string group) =>
        match.Groups[group].Success ? long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;

    /// <summary>Seconds with up to six fraction digits as exact microseconds.</summary>
    private static long Seconds(string text)
    {
        if (text.Length == 0)
        {
            return 0;
        }

        var value = decimal.Parse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        return checked((long)(value * MicrosPerSecond));
    }
}
