using System.Text.RegularExpressions;
using SinkConnector.Testing;

namespace SinkConnector.UnitTests.Architecture;

/// <summary>
/// The folders of src/SinkConnector form layers (docs/development.md, "Layout"): a folder may use the folders listed
/// before it, never one after it, so the engine stays reusable and no concern reaches into a higher one.
/// </summary>
public partial class LayeringTests
{
    /// <summary>Lowest first. Each folder is its own namespace; a subfolder belongs to its folder (Mapping/Conversion to Mapping) unless listed itself.</summary>
    public static readonly string[] Layers =
    [
        "PgBinary",      // binary COPY buffers and Postgres column types
        "Failures",      // error classification, backoff, the sink's stop exception
        "Configuration", // the settings and mappings, as loaded
        "Registry",      // schema registry: client, schemas by id, wire format
        "Mapping",       // message -> column values (JSON, Debezium, type conversion)
        "Configuration.Loading", // YAML files -> settings, validated (mappings by building their converters)
        "Observability", // metrics, health, log helpers
        "Schema",        // the connector's tables, DbContext, migrations
        "Offsets",       // the offsets table: claims, fenced advances
        "DeadLetters",   // the dead-letter table
        "Kafka",         // topic metadata for operators
        "Engine",        // the exactly-once protocol, with a writer interface
        "Writing",       // the sink's writer: conversion in batches, COPY, upsert, table management
        "Operations",    // offsets reset, status, dead-letter replay
    ];

    [Fact]
    public void Every_source_folder_is_a_known_layer()
    {
        // Folders with sources only: git keeps no empty folder, a working copy may.
        var folders = Directory.EnumerateFiles(SourceRoot(), "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(SourceRoot(), f)).Where(f => !f.StartsWith("obj", StringComparison.Ordinal) && !f.StartsWith("bin", StringComparison.Ordinal))
            .Select(LayerOf).Distinct().Order();

        Assert.Equal(Layers.Order(), folders);
    }

    [Fact]
    public void No_folder_depends_on_a_folder_above_it()
    {
        var violations = new List<string>();
        foreach (var file in Directory.EnumerateFiles(SourceRoot(), "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(SourceRoot(), file);
            if (Array.IndexOf(Layers, LayerOf(relative)) is var own && own < 0)
            {
                continue;
            }

            foreach (var used in UsedLayers(File.ReadAllText(file)).Where(u => Array.IndexOf(Layers, u) > own))
            {
                violations.Add($"{relative} uses {used}");
            }
        }

        Assert.True(violations.Count == 0, "layering violations (a folder may only use the folders before it in LayeringTests.Layers):\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_check_sees_usings_and_qualified_names()
    {
        Assert.Equal(["Engine", "Writing"], UsedLayers("using SinkConnector.Engine;\nvar x = new SinkConnector.Writing.SinkWriter();").Order());
        Assert.Equal(["Mapping"], UsedLayers("using SinkConnector.Mapping.Conversion;"));
        Assert.Equal(["Configuration", "Configuration.Loading"], UsedLayers("using SinkConnector.Configuration;\nusing SinkConnector.Configuration.Loading;").Order());
    }

    /// <summary>The layer of a source file (path relative to src/SinkConnector) or of a namespace below SinkConnector.</summary>
    private static string LayerOf(string relativePathOrNamespace)
    {
        var parts = relativePathOrNamespace.Split(Path.DirectorySeparatorChar, '.');
        var nested = parts.Length > 1 ? parts[0] + "." + parts[1] : null;
        return nested is not null && Layers.Contains(nested) ? nested : parts[0];
    }

    /// <summary>The layers a file names: <c>using SinkConnector.X</c> and qualified <c>SinkConnector.X.</c>, outside comments.</summary>
    private static IEnumerable<string> UsedLayers(string source) =>
        SourceReference().Matches(Comment().Replace(source, "")).Select(m => LayerOf(m.Groups[1].Value)).Distinct();

    private static string SourceRoot() => Path.Combine(RepositoryFolder.Root, "src", "SinkConnector");

    [GeneratedRegex(@"\bSinkConnector\.([A-Za-z]+(?:\.[A-Za-z]+)?)\b")]
    private static partial Regex SourceReference();

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comment();
}
