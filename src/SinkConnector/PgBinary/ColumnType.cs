using System.Text.RegularExpressions;
using NpgsqlTypes;

namespace SinkConnector.PgBinary;

public enum ScalarType
{
    Text,
    Varchar,
    SmallInt,
    Integer,
    BigInt,
    Numeric,
    Real,
    DoublePrecision,
    Boolean,
    Uuid,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Jsonb,
    Json,
    Bytea,
    Inet,
    Cidr,
    MacAddr,
    MacAddr8,
    Interval,
    Citext,
    Enum,
    Int4Range,
    Int8Range,
    NumRange,
    TsRange,
    TstzRange,
    DateRange,
}

/// <summary>
/// A column type from a mapping (<c>bigint</c>, <c>numeric(12,2)</c>, <c>varchar(40)</c>, <c>text[]</c>):
/// the scalar, its modifiers, and whether it is an array of that scalar.
/// </summary>
public sealed partial record ColumnType(ScalarType Scalar, int? Length, int? Precision, int? Scale, bool IsArray)
{
    private static readonly Dictionary<string, ScalarType> s_names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["text"] = ScalarType.Text,
        ["varchar"] = ScalarType.Varchar,
        ["character varying"] = ScalarType.Varchar,
        ["smallint"] = ScalarType.SmallInt,
        ["int2"] = ScalarType.SmallInt,
        ["integer"] = ScalarType.Integer,
        ["int"] = ScalarType.Integer,
        ["int4"] = ScalarType.Integer,
        ["bigint"] = ScalarType.BigInt,
        ["int8"] = ScalarType.BigInt,
        ["numeric"] = ScalarType.Numeric,
        ["decimal"] = ScalarType.Numeric,
        ["real"] = ScalarType.Real,
        ["float4"] = ScalarType.Real,
        ["double precision"] = ScalarType.DoublePrecision,
        ["float8"] = ScalarType.DoublePrecision,
        ["boolean"] = ScalarType.Boolean,
        ["bool"] = ScalarType.Boolean,
        ["uuid"] = ScalarType.Uuid,
        ["date"] = ScalarType.Date,
        ["time"] = ScalarType.Time,
        ["timestamp"] = ScalarType.Timestamp,
        ["timestamptz"] = ScalarType.TimestampTz,
        ["timestamp with time zone"] = ScalarType.TimestampTz,
        ["jsonb"] = ScalarType.Jsonb,
        ["json"] = ScalarType.Json,
        ["bytea"] = ScalarType.Bytea,
        ["inet"] = ScalarType.Inet,
        ["cidr"] = ScalarType.Cidr,
        ["macaddr"] = ScalarType.MacAddr,
        ["macaddr8"] = ScalarType.MacAddr8,
        ["interval"] = ScalarType.Interval,
        ["citext"] = ScalarType.Citext,
        ["int4range"] = ScalarType.Int4Range,
        ["int8range"] = ScalarType.Int8Range,
        ["numrange"] = ScalarType.NumRange,
        ["tsrange"] = ScalarType.TsRange,
        ["tstzrange"] = ScalarType.TstzRange,
        ["daterange"] = ScalarType.DateRange,
    };

    /// <summary>For <see cref="ScalarType.Enum"/>: the Postgres enum type the column holds.</summary>
    public PgEnumType? EnumType { get; init; }

    /// <summary>For arrays of an enum or of citext: their element type's OID, which differs per database.</summary>
    public PgElementOid? ElementOid { get; init; }

    /// <summary>The range types, whose bounds are values of another scalar type.</summary>
    public ScalarType? RangeElement => Scalar switch
    {
        ScalarType.Int4Range => ScalarType.Integer,
        ScalarType.Int8Range => ScalarType.BigInt,
        ScalarType.NumRange => ScalarType.Numeric,
        ScalarType.TsRange => ScalarType.Timestamp,
        ScalarType.TstzRange => ScalarType.TimestampTz,
        ScalarType.DateRange => ScalarType.Date,
        _ => null,
    };

    [GeneratedRegex(@"^\s*(?<name>[a-z][a-z0-9 ]*?)\s*(\(\s*(?<a>\d+)\s*(,\s*(?<b>\d+)\s*)?\))?\s*(?<array>\[\])?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex TypePattern();

    public static bool TryParse(string text, out ColumnType? type, out string? error)
    {
        type = null;
        error = null;
        if (PgEnumType.TryParseColumnType(text, out var enumType, out var isEnumArray, out error))
        {
            type = new ColumnType(ScalarType.Enum, null, null, null, isEnumArray)
            {
                EnumType = enumType,
                ElementOid = isEnumArray ? new PgElementOid(enumType!.ToString()) : null,
            };
            return true;
        }

        if (error is not null)
        {
            return false;
        }

        var match = TypePattern().Match(text ?? "");
        if (!match.Success || !s_names.TryGetValue(match.Groups["name"].Value, out var scalar))
        {
            error = $"unknown type '{text}' (expected one of text, varchar(n), smallint, integer, bigint, numeric(p,s), numeric, real, double precision, boolean, uuid, date, time, timestamp, timestamptz, jsonb, json, bytea, inet, cidr, macaddr, macaddr8, interval, citext, enum(type_name), int4range, int8range, numrange, tsrange, tstzrange, daterange, or an array such as text[])";
            return false;
        }

        int? a = match.Groups["a"].Success ? int.Parse(match.Groups["a"].Value) : null;
        int? b = match.Groups["b"].Success ? int.Parse(match.Groups["b"].Value) : null;
        var isArray = match.Groups["array"].Success;
        switch (scalar)
        {
            case ScalarType.Varchar when b is not null:
                error = $"'{text}': varchar takes one length, varchar(n)";
                return false;
            case ScalarType.Varchar when a is 0:
                error = $"'{text}': varchar length must be at least 1";
                return false;
            case ScalarType.Numeric when a is < 1 or > 1000 || b > a:
                error = $"'{text}': numeric(p,s) needs 1 <= p <= 1000 and 0 <= s <= p";
                return false;
            case not (ScalarType.Varchar or ScalarType.Numeric) when a is not null:
                error = $"'{text}': {match.Groups["name"].Value} takes no modifiers";
                return false;
            case ScalarType.Jsonb or ScalarType.Json or ScalarType.Bytea when isArray:
                error = $"'{text}': arrays are supported for scalar types only";
                return false;
        }

        type = scalar == ScalarType.Numeric
            ? new ColumnType(scalar, null, a, a is null ? null : b ?? 0, isArray)
            : new ColumnType(scalar, a, null, null, isArray);
        if (scalar == ScalarType.Citext && isArray)
        {
            // An extension type: its OID, which array_recv checks, differs per database.
            type = type with { ElementOid = new PgElementOid("citext") };
        }

        return true;
    }

    public static ColumnType Parse(string text) =>
        TryParse(text, out var type, out var error) ? type! : throw new FormatException(error);

    /// <summary>The Npgsql type used to write values of this column with binary COPY.</summary>
    public NpgsqlDbType NpgsqlDbType => IsArray ? NpgsqlDbType.Array | ScalarDbType : ScalarDbType;

    private NpgsqlDbType ScalarDbType => Scalar switch
    {
        ScalarType.Text => NpgsqlDbType.Text,
        ScalarType.Varchar => NpgsqlDbType.Varchar,
        ScalarType.SmallInt => NpgsqlDbType.Smallint,
        ScalarType.Integer => NpgsqlDbType.Integer,
        ScalarType.BigInt => NpgsqlDbType.Bigint,
        ScalarType.Numeric => NpgsqlDbType.Numeric,
        ScalarType.Real => NpgsqlDbType.Real,
        ScalarType.DoublePrecision => NpgsqlDbType.Double,
        ScalarType.Boolean => NpgsqlDbType.Boolean,
        ScalarType.Uuid => NpgsqlDbType.Uuid,
        ScalarType.Date => NpgsqlDbType.Date,
        ScalarType.Time => NpgsqlDbType.Time,
        ScalarType.Timestamp => NpgsqlDbType.Timestamp,
        ScalarType.TimestampTz => NpgsqlDbType.TimestampTz,
        ScalarType.Jsonb => NpgsqlDbType.Jsonb,
        ScalarType.Json => NpgsqlDbType.Json,
        ScalarType.Bytea => NpgsqlDbType.Bytea,
        ScalarType.Inet => NpgsqlDbType.Inet,
        ScalarType.Cidr => NpgsqlDbType.Cidr,
        ScalarType.MacAddr => NpgsqlDbType.MacAddr,
        ScalarType.MacAddr8 => NpgsqlDbType.MacAddr8,
        ScalarType.Interval => NpgsqlDbType.Interval,
        ScalarType.Citext => NpgsqlDbType.Citext,
        ScalarType.Enum => NpgsqlDbType.Unknown,
        ScalarType.Int4Range => NpgsqlDbType.IntegerRange,
        ScalarType.Int8Range => NpgsqlDbType.BigIntRange,
        ScalarType.NumRange => NpgsqlDbType.NumericRange,
        ScalarType.TsRange => NpgsqlDbType.TimestampRange,
        ScalarType.TstzRange => NpgsqlDbType.TimestampTzRange,
        ScalarType.DateRange => NpgsqlDbType.DateRange,
        _ => throw new InvalidOperationException($"unmapped scalar {Scalar}"),
    };

    /// <summary>The type as Postgres spells it in DDL and in <c>format_type()</c>, e.g. <c>numeric(12,2)</c>, <c>text[]</c>.</summary>
    public string SqlName
    {
        get
        {
            var name = Scalar switch
            {
                ScalarType.Text => "text",
                ScalarType.Varchar => Length is null ? "character varying" : $"character varying({Length})",
                ScalarType.SmallInt => "smallint",
                ScalarType.Integer => "integer",
                ScalarType.BigInt => "bigint",
                ScalarType.Numeric => Precision is null ? "numeric" : $"numeric({Precision},{Scale})",
                ScalarType.Real => "real",
                ScalarType.DoublePrecision => "double precision",
                ScalarType.Boolean => "boolean",
                ScalarType.Uuid => "uuid",
                ScalarType.Date => "date",
                ScalarType.Time => "time without time zone",
                ScalarType.Timestamp => "timestamp without time zone",
                ScalarType.TimestampTz => "timestamp with time zone",
                ScalarType.Jsonb => "jsonb",
                ScalarType.Json => "json",
                ScalarType.Bytea => "bytea",
                ScalarType.Inet => "inet",
                ScalarType.Cidr => "cidr",
                ScalarType.MacAddr => "macaddr",
                ScalarType.MacAddr8 => "macaddr8",
                ScalarType.Interval => "interval",
                ScalarType.Citext => "citext",
                ScalarType.Enum => EnumType!.SqlName,
                ScalarType.Int4Range => "int4range",
                ScalarType.Int8Range => "int8range",
                ScalarType.NumRange => "numrange",
                ScalarType.TsRange => "tsrange",
                ScalarType.TstzRange => "tstzrange",
                ScalarType.DateRange => "daterange",
                _ => throw new InvalidOperationException($"unmapped scalar {Scalar}"),
            };
            return IsArray ? name + "[]" : name;
        }
    }

    public override string ToString() => SqlName;
}
