using System.Text;
using Confluent.Kafka;

namespace SinkConnector.IntegrationTests;

/// <summary>Messages of the in-process library-mode tests.</summary>
public static class Notes
{
    /// <summary><c>{"id": n}</c> for ids <paramref name="first"/> .. <paramref name="last"/>, keyed by the id.</summary>
    public static List<Message<byte[]?, byte[]?>> Json(long first, long last) =>
        [.. Ids(first, last).Select(id => Json(id))];

    public static Message<byte[]?, byte[]?> Json(long id) => new()
    {
        Key = Encoding.UTF8.GetBytes(id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Value = Encoding.UTF8.GetBytes($$"""{"id":{{id}}}"""),
    };

    /// <summary>A delete of <paramref name="id"/>: its key and no value.</summary>
    public static Message<byte[]?, byte[]?> Tombstone(long id) => new()
    {
        Key = Encoding.UTF8.GetBytes(id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Value = null,
    };

    private static IEnumerable<long> Ids(long first, long last)
    {
        for (var id = first; id <= last; id++)
        {
            yield return id;
        }
    }
}
