using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using NpgsqlTypes;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping;

/// <summary>
/// The binary COPY encodings of the network, interval, range and arbitrary-precision numeric values (the send/recv
/// formats of Postgres' network.c, timestamp.c interval_recv, rangetypes.c range_recv and numeric.c), beside
/// <see cref="CopyRowEncoder"/>, which writes the field lengths around them.
/// </summary>
internal static class ExtendedTypeEncoder
{
    // numeric sign words (numeric.c): NaN and the infinities carry no digits.
    private const short NumericNegative = 0x4000;
    private const short NumericNaN = unchecked((short)0xC000);
    private const short NumericPositiveInfinity = unchecked((short)0xD000);
    private const short NumericNegativeInfinity = unchecked((short)0xF000);

    // rangetypes.h flags.
    private const byte RangeEmpty = 0x01;
    private const byte RangeLowerInclusive = 0x02;
    private const byte RangeUpperInclusive = 0x04;
    private const byte RangeLowerInfinite = 0x08;
    private const byte RangeUpperInfinite = 0x10;

    /// <summary>inet and cidr: family (PGSQL_AF_INET 2, PGSQL_AF_INET6 3), prefix bits, is_cidr, address length, address.</summary>
    public static void WriteNetwork(CopyBuffer output, IPAddress address, byte bits, bool isCidr)
    {
        var bytes = address.GetAddressBytes();
        output.Write(address.AddressFamily == AddressFamily.InterNetwork ? (byte)2 : (byte)3);
        output.Write(bits);
        output.Write(isCidr ? (byte)1 : (byte)0);
        output.Write((byte)bytes.Length);
        output.Write(bytes);
    }

    /// <summary>macaddr (six bytes) and macaddr8 (eight: the converter widens six-byte input as Postgres does).</summary>
    public static void WriteMacAddr(CopyBuffer output, PhysicalAddress address) => output.Write(address.GetAddressBytes());

    /// <summary>interval: microseconds, then days, then months (the three are kept apart, as Postgres does).</summary>
    public static void WriteInterval(CopyBuffer output, NpgsqlInterval interval)
    {
        output.WriteInt64(interval.Time);
        output.WriteInt32(interval.Days);
        output.WriteInt32(interval.Months);
    }

    /// <summary>A range: its flags, then each finite bound as a length-prefixed value of the element type.</summary>
    public static void WriteRange<T>(CopyBuffer output, NpgsqlRange<T> range, ColumnType element)
    {
        if (range.IsEmpty)
        {
            output.Write(RangeEmpty);
            return;
        }

        var flags = (byte)((range.LowerBoundIsInclusive && !range.LowerBoundInfinite ? RangeLowerInclusive : 0)
            | (range.UpperBoundIsInclusive && !range.UpperBoundInfinite ? RangeUpperInclusive : 0)
            | (range.LowerBoundInfinite ? RangeLowerInfinite : 0)
            | (range.UpperBoundInfinite ? RangeUpperInfinite : 0));
        output.Write(flags);
        if (!range.LowerBoundInfinite)
        {
            CopyRowEncoder.WriteField(output, range.LowerBound, element);
        }

        if (!range.UpperBoundInfinite)
        {
            CopyRowEncoder.WriteField(output, range.UpperBound, element);
        }
    }

    /// <summary>
    /// numeric from its exact text: base-10000 digits aligned on the decimal point, the weight of the first, the sign
    /// and the display scale (the number of fraction digits written, so 1.50 stays 1.50).
    /// </summary>
    public static void WriteNumericText(CopyBuffer output, string text)
    {
        var special = text switch
        {
            "NaN" => NumericNaN,
            "Infinity" => NumericPositiveInfinity,
            "-Infinity" => NumericNegativeInfinity,
            _ => (short)0,
        };
        if (special != 0)
        {
            output.WriteInt16(0);
            output.WriteInt16(0);
            output.WriteInt16(special);
            output.WriteInt16(0);
            return;
        }

        var negative = text.StartsWith('-');
        var unsigned = negative ? text.AsSpan(1) : text.AsSpan();
        var point = unsigned.IndexOf('.');
        var integer = point < 0 ? unsigned : unsigned[..point];
        var fraction = point < 0 ? [] : unsigned[(point + 1)..];
        // Whole groups of four digits on both sides of the point.
        var integerPad = (4 - (integer.Length % 4)) % 4;
        var fractionPad = (4 - (fraction.Length % 4)) % 4;
        var digits = new string('0', integerPad) + integer.ToString() + fraction.ToString() + new string('0', fractionPad);
        var groups = new short[digits.Length / 4];
        for (var i = 0; i < groups.Length; i++)
        {
            groups[i] = short.Parse(digits.AsSpan(i * 4, 4), provider: System.Globalization.CultureInfo.InvariantCulture);
        }

        var weight = ((integer.Length + integerPad) / 4) - 1;
        var first = 0;
        while (first < groups.Length && groups[first] == 0)
        {
            first++;
            weight--;
        }

        var last = groups.Length;
        while (last > first && groups[last - 1] == 0)
        {
            last--;
        }

        var count = last - first;
        output.WriteInt16((short)count);
        output.WriteInt16((short)(count == 0 ? 0 : weight));
        output.WriteInt16(negative && count > 0 ? NumericNegative : (short)0);
        output.WriteInt16((short)fraction.Length);
        for (var i = first; i < last; i++)
        {
            output.WriteInt16(groups[i]);
        }
    }

    /// <summary>Array element type OIDs of the built-in types handled here (array_recv checks them).</summary>
    public static int? ElementOid(ScalarType scalar) => scalar switch
    {
        ScalarType.Inet => 869,
        ScalarType.Cidr => 650,
        ScalarType.MacAddr => 829,
        ScalarType.MacAddr8 => 774,
        ScalarType.Interval => 1186,
        ScalarType.Int4Range => 3904,
        ScalarType.NumRange => 3906,
        ScalarType.TsRange => 3908,
        ScalarType.TstzRange => 3910,
        ScalarType.DateRange => 3912,
        ScalarType.Int8Range => 3926,
        _ => null,
    };
}
