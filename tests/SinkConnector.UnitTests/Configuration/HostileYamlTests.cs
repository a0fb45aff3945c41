using System.Diagnostics;
using System.Text;
using SinkConnector.Configuration;
using SinkConnector.Configuration.Loading;

namespace SinkConnector.UnitTests.Configuration;

/// <summary>Files built to exhaust the loader end as config errors, quickly.</summary>
public sealed class HostileYamlTests : IDisposable
{
    private readonly TempConfigDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string OrdersFile => _dir.MappingFile("orders.yaml");

    private ConfigException MappingFails(string yaml)
    {
        _dir.Write("mappings/orders.yaml", yaml);
        var stopwatch = Stopwatch.StartNew();
        var e = _dir.LoadFails();
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
        return e;
    }

    [Theory]
    [InlineData(100_000)]
    [InlineData(ConfigLimits.MaxYamlDepth + 1)]
    public void Deeply_nested_lists_are_refused(int depth)
    {
        var e = MappingFails("topic: orders\nx: " + new string('[', depth) + new string(']', depth) + "\n");

        ConfigAssert.HasOnlyError(e, OrdersFile, "", $"nested more than {ConfigLimits.MaxYamlDepth} levels deep");
    }

    [Fact]
    public void Nesting_up_to_the_limit_is_parsed()
    {
        // The root mapping is level 0 and the value of x level 1.
        var depth = ConfigLimits.MaxYamlDepth - 1;
        var e = MappingFails(TempConfigDirectory.ValidMapping + "\nx: " + new string('[', depth) + new string(']', depth) + "\n");

        ConfigAssert.HasOnlyError(e, OrdersFile, "x", "unknown key");
    }

    [Fact]
    public void A_self_referencing_alias_used_as_a_key_is_refused()
    {
        var e = MappingFails("topic: orders\n? &y [ *y ]\n: 1\n");

        ConfigAssert.HasOnlyError(e, OrdersFile, "", "recursive aliases are not supported");
    }

    [Fact]
    public void Billion_laughs_as_a_key_is_refused()
    {
        var yaml = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var i = 1; i < 10; i++)
        {
            yaml.Append($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n");
        }

        yaml.Append("? *a9\n: boom\n");
        var e = MappingFails(yaml.ToString());

        ConfigAssert.HasOnlyError(e, OrdersFile, "", $"aliases expand to more than {ConfigLimits.MaxAliasedNodes} nodes");
    }

    [Fact]
    public void Small_aliases_are_still_allowed()
    {
        _dir.Write("mappings/orders.yaml", """
            topic: orders
            table: public.orders
            columns:
              id: &bigint { from: value.id, type: bigint }
              other: *bigint
            """);

        Assert.Equal(2, _dir.Load().Mappings[0].Columns.Count);
    }

    [Fact]
    public void A_file_over_the_size_limit_is_refused()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping + "\n#" + new string('x', ConfigLimits.MaxFileBytes) + "\n");

        ConfigAssert.HasOnlyError(e, OrdersFile, "", "file is larger than 1024 KiB");
    }

    [Fact]
    public void A_mapping_linked_to_a_file_outside_the_directory_is_refused_without_reading_it()
    {
        using var outside = new TempConfigDirectory();
        var secret = outside.Write("secret.yaml", "root:$6$hash-that-must-not-be-printed:19000::::::\n");
        File.Delete(OrdersFile);
        File.CreateSymbolicLink(OrdersFile, secret);

        var e = _dir.LoadFails();

        ConfigAssert.HasOnlyError(e, OrdersFile, "", "symbolic link to a file outside the configuration directory");
        Assert.DoesNotContain("hash-that-must-not-be-printed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mappings_directory_linked_outside_is_refused()
    {
        using var outside = new TempConfigDirectory();
        Directory.Delete(Path.Combine(_dir.Root, "mappings"), recursive: true);
        Directory.CreateSymbolicLink(Path.Combine(_dir.Root, "mappings"), Path.Combine(outside.Root, "mappings"));

        var e = _dir.LoadFails();

        ConfigAssert.HasOnlyError(e, OrdersFile, "", "outside the configuration directory");
    }

    [Fact]
    public void Links_inside_the_directory_are_followed_as_a_kubernetes_configmap_mounts_them()
    {
        // A ConfigMap volume: sink.yaml -> ..data/sink.yaml, ..data -> ..2024_01_01, all in the mounted directory.
        var versioned = Path.Combine(_dir.Root, "..2024_01_01");
        Directory.CreateDirectory(versioned);
        File.Move(_dir.SinkFile, Path.Combine(versioned, "sink.yaml"));
        Directory.CreateSymbolicLink(Path.Combine(_dir.Root, "..data"), "..2024_01_01");
        File.CreateSymbolicLink(_dir.SinkFile, "..data/sink.yaml");

        Assert.Equal("orders-sink", _dir.Load().Connector.Name);
    }
}
