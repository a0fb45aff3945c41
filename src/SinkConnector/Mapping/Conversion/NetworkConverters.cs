using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using NpgsqlTypes;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.Conversion;

/// <summary>Parsing of <c>address[/prefix]</c> shared by inet and cidr.</summary>
internal static partial class NetworkText
{
    // IPAddress.TryParse also takes "1", "1.2" and "0x7f.1" (inet_aton's forms); Postgres and people mean dotted quads.
    [GeneratedRegex(@"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")]
    private static partial Regex DottedQuad();

    public static bool TryParse(string text, out IPAddress address, out byte bits, out bool hadPrefix)
    {
        address = IPAddress.None;
        bits = 0;
        var trimmed = text.Trim();
        var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
        var host = slash < 0 ? trimmed : trimmed[..slash];
        hadPrefix = slash >= 0;
        var isV6 = host.Contains(':', StringComparison.Ordinal);
        if (host.Contains('%', StringComparison.Ordinal) || !(isV6 || DottedQuad().IsMatch(host)) || !IPAddress.TryParse(host, out var parsed))
        {
            return false;
        }

        var max = parsed.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = max;
        if (hadPrefix && !(int.TryParse(trimmed.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) && prefix <= max))
        {
            return false;
        }

        address = parsed;
        bits = (byte)prefix;
        return true;
    }

    /// <summary>Whether any bit after the first <paramref name="bits"/> of the address is set (cidr forbids that).</summary>
    public static bool HasHostBits(IPAddress address, byte bits)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length * 8; i++)
        {
            if (i >= bits && (bytes[i / 8] & (0x80 >> (i % 8))) != 0)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>inet: an IPv4 or IPv6 host address with an optional prefix length (host bits allowed), e.g. 10.1.2.3/24, ::1.</summary>
internal sealed class InetConverter : ScalarConverter<NpgsqlInet>
{
    public InetConverter(ColumnType type) : base(type)
    {
    }

    public override bool TryJson(JsonElement element, out NpgsqlInet value, out Failure failure) =>
        TryJsonString(element, Type.SqlName, out value, out failure);

    public override bool TryToken(ref Utf8JsonReader reader, out NpgsqlInet value, out Failure failure) =>
        TryStringToken(ref reader, out value, out failure);

    public override bool TryText(string text, out NpgsqlInet value, out Failure failure)
    {
        if (!NetworkText.TryParse(text, out var address, out var bits, out _))
        {
            value = default;
            failure = Failure.WrongType("inet (an IPv4 or IPv6 address with an optional /prefix)", text);
            return false;
        }

        value = new NpgsqlInet(address, bits);
        failure = default;
        return true;
    }
}

/// <summary>cidr (as .NET's <see cref="IPNetwork"/>, which Npgsql maps to cidr): a network; like Postgres, an address with bits set right of the prefix (10.1.2.3/24) is refused.</summary>
internal sealed class CidrConverter : ScalarConverter<IPNetwork>
{
    public CidrConverter(ColumnType type) : base(type)
    {
    }

    public override bool TryJson(JsonElement element, out IPNetwork value, out Failure failure) =>
        TryJsonString(element, Type.SqlName, out value, out failure);

    public override bool TryToken(ref Utf8JsonReader reader, out IPNetwork value, out Failure failure) =>
        TryStringToken(ref reader, out value, out failure);

    public override bool TryText(string text, out IPNetwork value, out Failure failure)
    {
        value = default;
        if (!NetworkText.TryParse(text, out var address, out var bits, out _))
        {
            failure = Failure.WrongType("cidr (an IPv4 or IPv6 network address with an optional /prefix)", text);
            return false;
        }

        if (NetworkText.HasHostBits(address, bits))
        {
            failure = new Failure(ConversionErrorKind.WrongType, $"{Failure.Show(text)} is not a valid cidr: bits are set to the right of the /{bits} prefix (use inet for a host address with a prefix)");
            return false;
        }

        value = new IPNetwork(address, bits);
        failure = default;
        return true;
    }
}

/// <summary>
/// macaddr: six bytes in any of Postgres' spellings: 08:00:2b:01:02:03, 08-00-2b-01-02-03, 08002b:010203,
/// 08002b-010203, 0800.2b01.0203, 0800-2b01-0203, 08002b010203 (either case).
/// </summary>
internal sealed partial class MacAddrConverter : ScalarConverter<PhysicalAddress>
{
    [GeneratedRegex(@"^(?:(?<h>[0-9a-f]{2})([:-])(?<h>[0-9a-f]{2})\1(?<h>[0-9a-f]{2})\1(?<h>[0-9a-f]{2})\1(?<h>[0-9a-f]{2})\1(?<h>[0-9a-f]{2})|(?<h>[0-9a-f]{6})[:-]?(?<h>[0-9a-f]{6})|(?<h>[0-9a-f]{4})([.-])(?<h>[0-9a-f]{4})\2(?<h>[0-9a-f]{4}))$", RegexOptions.IgnoreCase)]
    private static partial Regex MacPattern();

    public MacAddrConverter(ColumnType type) : base(type)
    {
    }

    public override bool TryJson(JsonElement element, out PhysicalAddress value, out Failure failure) =>
        TryJsonString(element, Type.SqlName, out value, out failure);

    public override bool TryToken(ref Utf8JsonReader reader, out PhysicalAddress value, out Failure failure) =>
        TryStringToken(ref reader, out value, out failure);

    public override bool TryText(string text, out PhysicalAddress value, out Failure failure)
    {
        var match = MacPattern().Match(text.Trim());
        if (!match.Success)
        {
            value = null!;
            failure = Failure.WrongType("macaddr (six hex bytes such as 08:00:2b:01:02:03)", text);
            return false;
        }

        value = new PhysicalAddress(Convert.FromHexString(string.Concat(match.Groups["h"].Captures.Select(c => c.Value))));
        failure = default;
        return true;
    }
}
