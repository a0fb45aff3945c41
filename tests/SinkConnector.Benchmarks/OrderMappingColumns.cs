namespace SinkConnector.Benchmarks;

/// <summary>The order event's columns as every sink mapping of the benchmark reads them (one copy for all scenarios).</summary>
public static class OrderMappingColumns
{
    /// <summary>The <c>columns:</c> block of a mapping file, from the start of its line, ending with a newline.</summary>
    public const string Yaml =
        """
        columns:
          id:          { from: value.id,          type: bigint }
          customer_id: { from: value.customer.id, type: uuid }
          amount:      { from: value.amount,      type: "numeric(12,2)" }
          currency:    { from: value.currency,    type: text }
          status:      { from: value.status,      type: text }
          created_at:  { from: value.created_at,  type: timestamptz }
          note:        { from: value.note,        type: text }

        """;
}
