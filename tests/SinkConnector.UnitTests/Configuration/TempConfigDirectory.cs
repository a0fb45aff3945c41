using SinkConnector.Configuration;
using SinkConnector.Configuration.Loading;

namespace SinkConnector.UnitTests.Configuration;

/// <summary>A throw-away config directory under the temp path, prefilled with a valid sink.yaml and one mapping.</summary>
public sealed class TempConfigDirectory : IDisposable
{
    public const string ValidSink = """
        name: orders-sink
        kafka:
          bootstrap_servers: localhost:9092
        postgres:
          connection_string: Host=localhost;Database=app
        """;

    public const string ValidMapping = """
        topic: orders
        table: public.orders
        columns:
          id: { from: value.id, type: bigint }
        """;

    public TempConfigDirectory()
    {
        Root = Path.Combine(Path.GetTempPath(), "sink-config-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(Root, "mappings"));
        Write("sink.yaml", ValidSink);
        Write("mappings/orders.yaml", ValidMapping);
    }

    public string Root { get; }

    public Dictionary<string, string> Environment { get; } = [];

    public string SinkFile => Path.Combine(Root, "sink.yaml");

    public string MappingFile(string fileName) => Path.Combine(Root, "mappings", fileName);

    public string Write(string relativePath, string content)
    {
        var path = Path.Combine(Root, relativePath);
        File.WriteAllText(path, content);
        return path;
    }

    public void Delete(string relativePath) => File.Delete(Path.Combine(Root, relativePath));

    public SinkConfig Load() => ConfigLoader.Load(Root, name => Environment.GetValueOrDefault(name));

    public ConfigException LoadFails() => Assert.Throws<ConfigException>(Load);

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}
