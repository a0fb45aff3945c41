using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// <c>sink</c> installed outside a container, as a .NET tool: the package <c>dotnet pack</c> makes of the CLI
/// installs from a folder with no other package source, and the installed command runs with the native Kafka client
/// from its own install folder.
/// </summary>
public partial class ToolPackageTests(TestServices services)
{
    private const string PackageId = "SinkConnector.Cli";

    [Fact]
    public async Task Packed_tool_installs_from_its_package_alone_and_the_installed_sink_validates_with_its_own_librdkafka()
    {
        var scratch = Directory.CreateTempSubdirectory("sink-tool-").FullName;
        try
        {
            var packages = Directory.CreateDirectory(Path.Combine(scratch, "packages")).FullName;
            var (packed, packOutput) = await RunAsync("dotnet",
                ["pack", "src/SinkConnector.Cli/SinkConnector.Cli.csproj", "-c", "Release", "-o", packages, "--disable-build-servers", "-nologo"],
                environment: null, TimeSpan.FromMinutes(5));
            Assert.True(packed == 0, packOutput);
            var package = Assert.Single(Directory.GetFiles(packages, "*.nupkg"));
            // SinkConnector.Cli.<version>.nupkg, not a RID-specific SinkConnector.Cli.linux-x64 that `tool install` cannot find.
            Assert.Matches(@"^SinkConnector\.Cli\.[0-9][^/]*\.nupkg$", Path.GetFileName(package));

            // The package folder is the only source: the tool carries every assembly and native library it needs and
            // depends on nothing but the installed .NET runtime, so the install works offline.
            var nugetConfig = Path.Combine(scratch, "nuget.config");
            await File.WriteAllTextAsync(nugetConfig,
                $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="sink" value="{packages}" />
                  </packageSources>
                </configuration>
                """, TestContext.Current.CancellationToken);
            var tools = Path.Combine(scratch, "tools");
            var (installed, installOutput) = await RunAsync("dotnet",
                ["tool", "install", "--tool-path", tools, "--configfile", nugetConfig, PackageId], environment: null, TimeSpan.FromMinutes(2));
            Assert.True(installed == 0, installOutput);

            var sink = Path.Combine(tools, "sink");
            Assert.True(File.Exists(sink), $"no {sink} after the install:\n{installOutput}");
            var (help, helpOutput) = await RunAsync(sink, ["--help"], environment: null, TimeSpan.FromMinutes(1));
            Assert.True(help == 0, helpOutput);
            Assert.Contains("  sink [command] [options]", helpOutput, StringComparison.Ordinal);

            // validate loads the config, which has librdkafka check the Kafka settings, then checks the tables in
            // PostgreSQL. A startup hook prints which librdkafka Confluent.Kafka loads in the installed tool.
            await using var bed = await SinkTestBed.CreateAsync(services, "tool", partitions: 1);
            var environment = new Dictionary<string, string>(bed.Environment)
            {
                ["DOTNET_STARTUP_HOOKS"] = Path.Combine(AppContext.BaseDirectory, "SinkConnector.Testing.dll"),
            };
            var (valid, validOutput) = await RunAsync(sink, ["validate", "--config", bed.ConfigDirectory], environment, TimeSpan.FromMinutes(1));
            Assert.True(valid == 0, validOutput);
            Assert.Contains("1 mapping(s) valid, target tables compatible", validOutput, StringComparison.Ordinal);

            var probe = ProbeLine().Match(validOutput);
            Assert.True(probe.Success, $"no librdkafka probe line in the installed sink's output:\n{validOutput}");
            Assert.StartsWith("2.16.", probe.Groups["version"].Value, StringComparison.Ordinal);
            // The tool's folder in the install's store (tools/sink is a link to the executable there), not a
            // system librdkafka and not the build output.
            var toolFolder = Path.GetDirectoryName(new FileInfo(sink).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? sink)!;
            Assert.StartsWith(Path.Combine(tools, ".store") + "/", toolFolder + "/", StringComparison.Ordinal);
            Assert.Equal(toolFolder, Path.GetDirectoryName(probe.Groups["path"].Value));
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>
    /// Runs <paramref name="fileName"/> in the repository with this environment plus <paramref name="environment"/>;
    /// returns its exit code and output. No MSBuild settings of the test run leak into a nested <c>dotnet</c>.
    /// </summary>
    internal static async Task<(int ExitCode, string Output)> RunAsync(
        string fileName, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = DeploymentFilesTests.Repository,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', info.ArgumentList)} did not exit within {timeout}");
        }

        var output = new StringBuilder($"{fileName} {string.Join(' ', info.ArgumentList)}: exit {process.ExitCode}\n");
        output.Append(await stdout).Append(await stderr);
        return (process.ExitCode, output.ToString());
    }

    [GeneratedRegex(@"^librdkafka probe: version=(?<version>\S+) path=(?<path>\S+) builtin\.features=\S+$", RegexOptions.Multiline)]
    private static partial Regex ProbeLine();
}
