using System.Text;
using System.Text.Json;
using SinkConnector.Configuration;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.Conversion;

/// <summary>
/// Recognises Debezium's placeholder for an unchanged TOASTed value, in the form Debezium's JSON converter sends it
/// for each column type: the string for text and json types (io.debezium.data.Json is a string), the placeholder's
/// bytes for bytea (base64 in JSON, as binary.handling.mode bytes/base64 send them), and a one-element array of it for
/// text arrays.
/// </summary>
internal static class UnavailableValue
{
    private static readonly byte[] s_text = Encoding.UTF8.GetBytes(UpsertRules.UnavailablePlaceholder);
    private static readonly byte[] s_base64 = Encoding.UTF8.GetBytes(Convert.ToBase64String(s_text));

    public static bool Matches(JsonElement element, ColumnType type)
    {
        if (type.IsArray)
        {
            return element.ValueKind == JsonValueKind.Array && element.GetArrayLength() == 1 && Matches(element[0], type with { IsArray = false });
        }

        return element.ValueKind == JsonValueKind.String && element.ValueEquals(type.Scalar == ScalarType.Bytea ? s_base64 : s_text);
    }
}
