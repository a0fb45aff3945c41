using System.Text.Json;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.Conversion;

/// <summary>
/// A Postgres enum: its binary form is the label's text. Once the startup table check has read the labels from
/// pg_enum, a value outside them fails here (a dead letter naming the labels) instead of failing the COPY; labels are
/// matched exactly, as Postgres does (case, spaces and quotes included).
/// </summary>
internal sealed class EnumConverter : ScalarConverter<string>
{
    private readonly PgEnumType _enum;

    public EnumConverter(ColumnType type) : base(type) =>
        _enum = type.EnumType ?? throw new ArgumentException("an enum column type names its enum", nameof(type));

    public override bool TryJson(JsonElement element, out string value, out Failure failure) =>
        TryJsonString(element, Type.SqlName, out value, out failure);

    public override bool TryToken(ref Utf8JsonReader reader, out string value, out Failure failure) =>
        TryStringToken(ref reader, out value, out failure);

    public override bool TryText(string text, out string value, out Failure failure)
    {
        value = text;
        if (_enum.Labels is { } labels && !labels.Contains(text))
        {
            var shown = labels.Count <= 20 ? string.Join(", ", labels.Select(Failure.Show)) : $"{labels.Count} labels";
            failure = new Failure(ConversionErrorKind.WrongType, $"{Failure.Show(text)} is not a label of enum {_enum} ({shown})");
            return false;
        }

        if (text.Contains('\0', StringComparison.Ordinal) || text.Length == 0)
        {
            failure = Failure.WrongType($"label of enum {_enum}", text);
            return false;
        }

        failure = default;
        return true;
    }
}
