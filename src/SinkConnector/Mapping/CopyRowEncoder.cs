using System.Buffers.Binary;
using System.Net.NetworkInformation;
using System.Text;
using NpgsqlTypes;
using SinkConnector.Configuration;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping;

/// <summary>
/// Encodes rows in the tuple format of <c>COPY ... FROM STDIN (FORMAT BINARY)</c>, for the CLR values the mapping's
/// converters produce. The converters write their fields through it as they convert, on the thread pool while the
/// batch fills (<see cref="EncodedChunk"/>), so that the commit only streams bytes; rows from elsewhere (dead-letter
/// replay, upsert deletes) are encoded whole by <see cref="Encode"/>. The bytes are what Npgsql's binary importer
/// sends for the same values (CopyRowEncoderTests compares the two, value by value, in Postgres).
/// </summary>
public sealed class CopyRowEncoder
{
    /// <summary>The file header: signature, flags (no OIDs) and an empty header extension.</summary>
    public static ReadOnlySpan<byte> Header => [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xff, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>The file trailer: a tuple field count of -1.</summary>
    public static ReadOnlySpan<byte> Trailer => [0xff, 0xff];

    // Postgres counts timestamps in microseconds and dates in days from 2000-01-01.
    private const long PostgresEpochTicks = 630_822_816_000_000_000;
    private static readonly int s_postgresEpochDay = new DateOnly(2000, 1, 1).DayNumber;

    private readonly ColumnType[] _types;
    private readonly int[] _columns;

    /// <param name="mapping">Whose converted values the rows are (one per column, in the mapping's order).</param>
    /// <param name="columns">Which of them a tuple holds, in COPY's column order.</param>
    public CopyRowEncoder(MappingConfig mapping, int[] columns)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        _types = [.. mapping.Columns.Select(c => c.Type)];
        _columns = columns;
    }

    /// <summary>Appends one tuple: the selected columns of <paramref name="values"/>.</summary>
    /// <param name="trailingFields">Fields the caller appends after these (values computed at write time, such as now()).</param>
    public void Encode(object?[] values, CopyBuffer output, int trailingFields = 0)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(output);
        WriteFieldCount(output, _columns.Length + trailingFields);
        foreach (var c in _columns)
        {
            WriteField(output, values[c], _types[c]);
        }
    }

    /// <summary>A tuple starts with its number of fields.</summary>
    public static void WriteFieldCount(CopyBuffer output, int fields) => output.WriteInt16((short)fields);

    /// <summary>One field: a converted value of a <paramref name="type"/> column, or SQL NULL for null.</summary>
    public static void WriteField(CopyBuffer output, object? value, ColumnType type)
    {
        if (value is null)
        {
            output.WriteInt32(-1);
            return;
        }

        var start = BeginField(output);
        WriteValue(output, value, type);
        EndField(output, start);
    }

    /// <summary>
    /// The same bytes as <see cref="WriteField(CopyBuffer, object?, ColumnType)"/> for a converter's typed result,
    /// without boxing it: each <c>typeof(T)</c> test is decided when the method is compiled for that T.
    /// </summary>
    public static void WriteField<T>(CopyBuffer output, T value, ColumnType type)
    {
        if (!typeof(T).IsValueType)
        {
            WriteField(output, (object?)value, type);
            return;
        }

        var start = BeginField(output);
        if (typeof(T) == typeof(long))
        {
            output.WriteInt64((long)(object)value!);
        }
        else if (typeof(T) == typeof(int))
        {
            output.WriteInt32((int)(object)value!);
        }
        else if (typeof(T) == typeof(decimal))
        {
            WriteNumeric(output, (decimal)(object)value!);
        }
        else if (typeof(T) == typeof(Guid))
        {
            WriteUuid(output, (Guid)(object)value!);
        }
        else if (typeof(T) == typeof(DateTime))
        {
            WriteTimestamp(output, (DateTime)(object)value!);
        }
        else if (typeof(T) == typeof(PgNumeric) && ((PgNumeric)(object)value!).Big is null)
        {
            WriteNumeric(output, ((PgNumeric)(object)value!).Small);
        }
        else if (typeof(T) == typeof(double))
        {
            output.WriteInt64(BitConverter.DoubleToInt64Bits((double)(object)value!));
        }
        else
        {
            WriteValue(output, value!, type); // the rarer value types, boxed
        }

        EndField(output, start);
    }

    /// <summary>A text field from UTF-8 that is known to be valid and free of NUL (an unescaped JSON string).</summary>
    public static void WriteTextField(CopyBuffer output, ReadOnlySpan<byte> utf8)
    {
        output.WriteInt32(utf8.Length);
        output.Write(utf8);
    }

    // Reserve the length, write the value, then fill the length in.
    private static int BeginField(CopyBuffer output)
    {
        var start = output.Length;
        output.Advance(4);
        return start;
    }

    private static void EndField(CopyBuffer output, int start) =>
        BinaryPrimitives.WriteInt32BigEndian(output.Written(start, 4), output.Length - start - 4);

    private static void WriteValue(CopyBuffer output, object value, ColumnType type)
    {
        switch (value)
        {
            case string text:
                if (type.Scalar == ScalarType.Jsonb)
                {
                    output.Write(1); // jsonb's binary format version
                }

                WriteUtf8(output, text);
                break;
            case long number:
                output.WriteInt64(number);
                break;
            case int number:
                output.WriteInt32(number);
                break;
            case short number:
                output.WriteInt16(number);
                break;
            case decimal number:
                WriteNumeric(output, number);
                break;
            case double number:
                output.WriteInt64(BitConverter.DoubleToInt64Bits(number));
                break;
            case float number:
                output.WriteInt32(BitConverter.SingleToInt32Bits(number));
                break;
            case bool flag:
                output.Write(flag ? (byte)1 : (byte)0);
                break;
            case Guid uuid:
                WriteUuid(output, uuid);
                break;
            case DateTime time:
                WriteTimestamp(output, time);
                break;
            case DateOnly date:
                output.WriteInt32(date == DateOnly.MaxValue ? int.MaxValue : date == DateOnly.MinValue ? int.MinValue : date.DayNumber - s_postgresEpochDay);
                break;
            case TimeOnly time:
                output.WriteInt64(time.Ticks / 10);
                break;
            case byte[] bytes:
                output.Write(bytes);
                break;
            case PgNumeric { Big: { } text }:
                ExtendedTypeEncoder.WriteNumericText(output, text);
                break;
            case PgNumeric number:
                WriteNumeric(output, number.Small);
                break;
            case NpgsqlInet inet:
                ExtendedTypeEncoder.WriteNetwork(output, inet.Address, inet.Netmask, isCidr: false);
                break;
            case System.Net.IPNetwork cidr:
                ExtendedTypeEncoder.WriteNetwork(output, cidr.BaseAddress, (byte)cidr.PrefixLength, isCidr: true);
                break;
            case PhysicalAddress mac:
                ExtendedTypeEncoder.WriteMacAddr(output, mac);
                break;
            case NpgsqlInterval interval:
                ExtendedTypeEncoder.WriteInterval(output, interval);
                break;
            case NpgsqlRange<int> range:
                ExtendedTypeEncoder.WriteRange(output, range, RangeElement(type));
                break;
            case NpgsqlRange<long> range:
                ExtendedTypeEncoder.WriteRange(output, range, RangeElement(type));
                break;
            case NpgsqlRange<PgNumeric> range:
                ExtendedTypeEncoder.WriteRange(output, range, RangeElement(type));
                break;
            case NpgsqlRange<DateTime> range:
                ExtendedTypeEncoder.WriteRange(output, range, RangeElement(type));
                break;
            case NpgsqlRange<DateOnly> range:
                ExtendedTypeEncoder.WriteRange(output, range, RangeElement(type));
                break;
            case Array array when type.IsArray:
                WriteArray(output, array, type);
                break;
            default:
                throw new InvalidOperationException($"no binary COPY encoding for a {value.GetType().Name} in a {type.SqlName} column");
        }
    }

    private static ColumnType RangeElement(ColumnType range) =>
        new(range.RangeElement ?? throw new InvalidOperationException($"{range.SqlName} is not a range type"), null, null, null, false);

    /// <summary>One-dimensional, lower bound 1, no NULL elements (the array converter rejects them).</summary>
    private static void WriteArray(CopyBuffer output, Array array, ColumnType arrayType)
    {
        var element = arrayType with { IsArray = false };
        output.WriteInt32(array.Length == 0 ? 0 : 1);
        output.WriteInt32(0);
        output.WriteInt32(arrayType.ElementOid is { } perDatabase ? unchecked((int)perDatabase.Require()) : ElementOid(element.Scalar));
        if (array.Length > 0)
        {
            output.WriteInt32(array.Length);
            output.WriteInt32(1);
        }

        foreach (var item in array)
        {
            WriteField(output, item, element);
        }
    }

    /// <summary>The built-in type OIDs; array_recv checks the element type against the column's.</summary>
    private static int ElementOid(ScalarType scalar) => scalar switch
    {
        ScalarType.Text => 25,
        ScalarType.Varchar => 1043,
        ScalarType.SmallInt => 21,
        ScalarType.Integer => 23,
        ScalarType.BigInt => 20,
        ScalarType.Numeric => 1700,
        ScalarType.Real => 700,
        ScalarType.DoublePrecision => 701,
        ScalarType.Boolean => 16,
        ScalarType.Uuid => 2950,
        ScalarType.Date => 1082,
        ScalarType.Time => 1083,
        ScalarType.Timestamp => 1114,
        ScalarType.TimestampTz => 1184,
        _ when ExtendedTypeEncoder.ElementOid(scalar) is { } oid => oid,
        _ => throw new InvalidOperationException($"no arrays of {scalar}"),
    };

    /// <summary>
    /// numeric: base-10000 digits around the decimal point (weight = position of the first), sign, and the display
    /// scale, which is the decimal's own scale, so 12.50 stays 12.50 in an unconstrained numeric column.
    /// </summary>
    private static void WriteNumeric(CopyBuffer output, decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var scale = (bits[3] >> 16) & 0xff;
        var mantissa = ((UInt128)(uint)bits[2] << 64) | ((UInt128)(uint)bits[1] << 32) | (uint)bits[0];
        // Align the fraction to whole base-10000 digits: at most 28 + 3 decimal digits, well inside 128 bits.
        var pad = (4 - (scale % 4)) % 4;
        for (var i = 0; i < pad; i++)
        {
            mantissa *= 10;
        }

        var fractionDigits = (scale + pad) / 4;
        Span<short> digits = stackalloc short[10]; // least significant first
        var count = 0;
        while (mantissa != 0)
        {
            digits[count++] = (short)(ulong)(mantissa % 10_000);
            mantissa /= 10_000;
        }

        var weight = count - fractionDigits - 1;
        var last = 0;
        while (last < count && digits[last] == 0)
        {
            last++; // trailing zero digits carry no value
        }

        var negative = count > 0 && (bits[3] & int.MinValue) != 0;
        output.WriteInt16((short)(count - last));
        output.WriteInt16((short)(count == 0 ? 0 : weight));
        output.WriteInt16((short)(negative ? 0x4000 : 0));
        output.WriteInt16((short)scale);
        for (var i = count - 1; i >= last; i--)
        {
            output.WriteInt16(digits[i]);
        }
    }

    private static void WriteUuid(CopyBuffer output, Guid uuid)
    {
        uuid.TryWriteBytes(output.GetSpan(16), bigEndian: true, out _);
        output.Advance(16);
    }

    /// <summary>Npgsql's default: DateTime.MinValue and MaxValue are -infinity and infinity.</summary>
    private static void WriteTimestamp(CopyBuffer output, DateTime time) =>
        output.WriteInt64(time == DateTime.MaxValue ? long.MaxValue : time == DateTime.MinValue ? long.MinValue : (time.Ticks - PostgresEpochTicks) / 10);

    private static void WriteUtf8(CopyBuffer output, string text)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }
}
