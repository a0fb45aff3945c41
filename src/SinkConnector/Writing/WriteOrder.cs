using SinkConnector.Configuration;

namespace SinkConnector.Writing;

/// <summary>
/// The order tables are written in within a batch's transaction: by <c>order:</c>, then mapping name, then table. A
/// foreign key between sink tables holds when its parent's mapping has the lower order.
/// </summary>
public static class WriteOrder
{
    public static IEnumerable<MappingConfig> Sort(IEnumerable<MappingConfig> mappings) =>
        mappings.OrderBy(m => m.Order).ThenBy(m => m.Name, StringComparer.Ordinal).ThenBy(m => m.Table.ToString(), StringComparer.Ordinal);
}
