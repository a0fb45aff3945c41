using System.Globalization;
using System.Net.NetworkInformation;
using System.Text.Json;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.Conversion;

/// <summary>
/// macaddr8: eight bytes (EUI-64) or six (EUI-48), as Postgres' macaddr8_in reads them: pairs of hex digits, with
/// or without one separator (':', '-' or '.') between pairs, the same one throughout: 08:00:2b:01:02:03:04:05,
/// 0800.2b01.0203.0405, 08002b0102030405, 08-00-2b-01-02-03. Six bytes become eight the way Postgres makes them
/// (FF:FE inserted after the third byte), so the value written is the one Postgres would store from the text.
/// </summary>
internal sealed class MacAddr8Converter : ScalarConverter<PhysicalAddress>
{
    public MacAddr8Converter(ColumnType type) : base(type)
    {
    }

    public override bool TryJson(JsonElement element, out PhysicalAddress value, out Failure failure) =>
        TryJsonString(element, Type.SqlName, out value, out failure);

    public override bool TryToken(ref Utf8JsonReader reader, out PhysicalAddress value, out Failure failure) =>
        TryStringToken(ref reader, out value, out failure);

    public override bool TryText(string text, out PhysicalAddress value, out Failure failure)
    {
        if (TryParse(text.AsSpan().Trim(), out var bytes))
        {
            value = new PhysicalAddress(bytes);
            failure = default;
            return true;
        }

        value = null!;
        failure = Failure.WrongType("macaddr8 (eight or six hex bytes such as 08:00:2b:01:02:03:04:05)", text);
        return false;
    }

    private static bool TryParse(ReadOnlySpan<char> text, out byte[] bytes)
    {
        bytes = new byte[8];
        var count = 0;
        var separator = '\0';
        var i = 0;
        while (i < text.Length)
        {
            if (count == 8 || i + 2 > text.Length
                || !byte.TryParse(text.Slice(i, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[count]))
            {
                return false;
            }

            count++;
            i += 2;
            if (i < text.Length && text[i] is ':' or '-' or '.')
            {
                // One separator throughout, and only between two pairs.
                if ((separator != '\0' && separator != text[i]) || i + 1 == text.Length)
                {
                    return false;
                }

                separator = text[i];
                i++;
            }
        }

        if (count == 6)
        {
            bytes = [bytes[0], bytes[1], bytes[2], 0xFF, 0xFE, bytes[3], bytes[4], bytes[5]];
            return true;
        }

        return count == 8;
    }
}
