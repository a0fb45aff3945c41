using System.Text;
using System.Text.Json;
using NpgsqlTypes;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.Conversion;

/// <summary>
/// int4range, int8range, numrange, tsrange, tstzrange, daterange from Postgres' range text: <c>[1,5)</c>, <c>(,10]</c>
/// (an empty bound is unbounded), <c>empty</c>, bounds in double quotes when they hold commas or spaces
/// (<c>["2024-01-01 10:00","2024-01-02")</c>). Each bound is converted by the element type's converter, so it takes
/// what a column of that type takes. Postgres normalizes discrete ranges itself (<c>[1,5]</c> is stored as <c>[1,6)</c>).
/// </summary>
internal sealed class RangeConverter<T> : ScalarConverter<NpgsqlRange<T>>
{
    private readonly ScalarConverter<T> _bound;

    public RangeConverter(ColumnType type, ScalarConverter<T> bound) : base(type) => _bound = bound;

    public override bool TryJson(JsonElement element, out NpgsqlRange<T> value, out Failure failure) =>
        TryJsonString(element, Type.SqlName, out value, out failure);

    public override bool TryToken(ref Utf8JsonReader reader, out NpgsqlRange<T> value, out Failure failure) =>
        TryStringToken(ref reader, out value, out failure);

    public override bool TryText(string text, out NpgsqlRange<T> value, out Failure failure)
    {
        value = NpgsqlRange<T>.Empty;
        var trimmed = text.Trim();
        if (trimmed.Equals("empty", StringComparison.OrdinalIgnoreCase))
        {
            failure = default;
            return true;
        }

        if (trimmed.Length < 3 || trimmed[0] is not ('[' or '(') || trimmed[^1] is not (']' or ')')
            || !TrySplit(trimmed[1..^1], out var lowerText, out var upperText))
        {
            failure = Failure.WrongType($"{Type.SqlName} (range text such as [1,5), (,10] or empty)", text);
            return false;
        }

        T lower = default!, upper = default!;
        if ((lowerText is not null && !Bound(lowerText, "lower", out lower, out failure))
            || (upperText is not null && !Bound(upperText, "upper", out upper, out failure)))
        {
            return false;
        }

        if (lowerText is not null && upperText is not null && Comparer<T>.Default is var comparer
            && typeof(IComparable<T>).IsAssignableFrom(typeof(T)) && comparer.Compare(lower, upper) > 0)
        {
            failure = new Failure(ConversionErrorKind.OutOfRange, $"{Failure.Show(text)}: the lower bound is greater than the upper bound ({Type.SqlName})");
            return false;
        }

        value = new NpgsqlRange<T>(lower, trimmed[0] == '[' && lowerText is not null, lowerText is null, upper, trimmed[^1] == ']' && upperText is not null, upperText is null);
        failure = default;
        return true;
    }

    private bool Bound(string text, string which, out T value, out Failure failure)
    {
        if (_bound.TryText(text, out value, out failure))
        {
            return true;
        }

        failure = failure with { Message = $"{which} bound of {Type.SqlName}: {failure.Message}" };
        return false;
    }

    /// <summary>The two bounds between the brackets; null for an empty (unbounded) one. Quotes as in Postgres: "" or \" inside.</summary>
    private static bool TrySplit(string inner, out string? lower, out string? upper)
    {
        lower = upper = null;
        var parts = new List<string?>();
        var current = new StringBuilder();
        var quoted = false;
        var wasQuoted = false;
        for (var i = 0; i < inner.Length; i++)
        {
            var c = inner[i];
            if (quoted)
            {
                if (c == '\\' && i + 1 < inner.Length)
                {
                    current.Append(inner[++i]);
                }
                else if (c == '"' && i + 1 < inner.Length && inner[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = wasQuoted = true;
            }
            else if (c == ',')
            {
                parts.Add(Part(current, wasQuoted));
                current.Clear();
                wasQuoted = false;
            }
            else if (c is '[' or ']' or '(' or ')' or '\\')
            {
                return false;
            }
            else
            {
                current.Append(c);
            }
        }

        if (quoted)
        {
            return false;
        }

        parts.Add(Part(current, wasQuoted));
        if (parts.Count != 2)
        {
            return false;
        }

        (lower, upper) = (parts[0], parts[1]);
        return true;
    }

    private static string? Part(StringBuilder text, bool quoted)
    {
        var value = quoted ? text.ToString() : text.ToString().Trim();
        return value.Length == 0 && !quoted ? null : value;
    }
}
