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
    };

    [GeneratedRegex(@"^\s*(?<name>[a-z][a-z0-9 ]*?)\s*(\(\s*(?<a>\d+)\s*(,\s*(?<b>\d+)\s*)?\))?\s*(?<array>\[\])?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex TypePattern();

    public static bool TryParse(string text, out ColumnType? type, out string? error)
    {
        type = null;
        error = null;
        var match = TypePattern().Match(text ?? "");
        if (!match.Success || !s_names.TryGetValue(match.Groups["name"].Value, out var scalar))
        {
            error = $"unknown type '{text}' (expected one of text, varchar(n), smallint, integer, bigint, numeric(p,s), real, double precision, boolean, uuid, date, time, timestamp, timestamptz, jsonb, json, bytea, or an array such as text[])";
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
                _ => throw new InvalidOperationException($"unmapped scalar {Scalar}"),
            };
            return IsArray ? name + "[]" : name;
        }
    }

    public override string ToString() => SqlName;
}
