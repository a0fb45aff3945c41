namespace SinkConnector.Testing;

/// <summary>
/// The sink.yaml the test harnesses (integration tests, chaos soak, benchmark) write. Connection settings come from
/// the environment the sink process gets (<c>KAFKA_BOOTSTRAP</c>, <c>SINK_POSTGRES</c>), as in production.
/// </summary>
public static class SinkYaml
{
    /// <param name="batch">The <c>batch:</c> keys, one per line, lines after the first indented by two spaces.</param>
    public static string Render(string name, IEnumerable<KeyValuePair<string, string>> kafkaProperties, string batch, string shutdownGrace)
    {
        var properties = string.Join("\n", kafkaProperties.Select(p => $"    {p.Key}: \"{p.Value}\""));
        return $$"""
            name: {{name}}
            kafka:
              bootstrap_servers: ${KAFKA_BOOTSTRAP}
              auto_offset_reset: earliest
              properties:
            {{properties}}
            postgres:
              connection_string: ${SINK_POSTGRES}
              schema: sink
            batch:
              {{batch}}
            shutdown_grace: {{shutdownGrace}}
            """;
    }
}
