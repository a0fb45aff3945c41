using System.Text.RegularExpressions;
using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// The native Kafka client comes from librdkafka.redist (through Confluent.Kafka). Which of its Linux builds loads
/// depends on the machine: the main one needs <c>libsasl2.so.3</c>, without it Confluent.Kafka takes the build
/// without GSSAPI. These tests hold the development build and the container image's layout to what they need.
/// </summary>
public partial class NativeClientTests
{
    [Fact]
    public void Development_build_loads_librdkafka_2_16_from_the_package_with_the_features_the_connector_uses()
    {
        Assert.StartsWith("2.16.", Library.VersionString, StringComparison.Ordinal);
        // Copied next to the assemblies by the build, not a system librdkafka (Debian's 2.0.2 is too old).
        Assert.Equal(AppContext.BaseDirectory, Path.GetDirectoryName(LoadedLibrdkafka.Path) + "/");

        var features = LoadedLibrdkafka.BuiltinFeatures();
        foreach (var feature in new[] { "ssl", "sasl_plain", "sasl_scram", "sasl_oauthbearer", "gzip", "snappy", "lz4", "zstd" })
        {
            Assert.True(features.Contains(feature), $"no {feature} in builtin.features of {LoadedLibrdkafka.Path}: {string.Join(',', features)}");
        }
    }

    [Fact]
    public async Task Published_image_layout_loads_the_full_librdkafka_build_with_sasl_gssapi()
    {
        var publish = Directory.CreateTempSubdirectory("sink-publish-").FullName;
        var scratch = Directory.CreateTempSubdirectory("sink-image-").FullName;
        try
        {
            await DeploymentFilesTests.PublishAsDockerfileDoesAsync(publish);
            // The published sink itself, in the image's loader setup, nothing else from this machine's environment.
            // A startup hook prints which librdkafka Confluent.Kafka loads there and its features before `sink --help`.
            var environment = WithImageLoaderSetup(new Dictionary<string, string>
            {
                ["DOTNET_STARTUP_HOOKS"] = Path.Combine(AppContext.BaseDirectory, "SinkConnector.Testing.dll"),
            }, scratch);
            using var sink = SinkProcess.Start(["--help"], environment, dllPath: Path.Combine(publish, "sink.dll"), inheritEnvironment: false);
            await sink.WaitForExitAsync(TimeSpan.FromMinutes(1));
            Assert.True(sink.ExitCode == 0, sink.Output);

            var probe = ProbeLine().Match(sink.Output);
            Assert.True(probe.Success, $"no librdkafka probe line in the published sink's output:\n{sink.Output}");
            Assert.StartsWith("2.16.", probe.Groups["version"].Value, StringComparison.Ordinal);
            Assert.Equal(Path.Combine(publish, "librdkafka.so"), probe.Groups["path"].Value);
            var features = probe.Groups["features"].Value.Split(',');
            foreach (var feature in new[] { "ssl", "sasl_gssapi", "sasl_oauthbearer", "zstd", "lz4" })
            {
                Assert.True(features.Contains(feature), $"no {feature} in builtin.features of the image's librdkafka:\n{sink.Output}");
            }
        }
        finally
        {
            Directory.Delete(publish, recursive: true);
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>
    /// <paramref name="environment"/> plus what docker/Dockerfile's runtime stage does for the loader, reproduced
    /// without a container engine: the image links <c>libsasl2.so.3</c> to Ubuntu's <c>libsasl2.so.2</c> in the
    /// system library folder; here the same link goes into a new folder under <paramref name="scratch"/>, which is put
    /// on <c>LD_LIBRARY_PATH</c>. Fails when the Dockerfile has no such link or this (Debian-family) machine lacks
    /// its target.
    /// </summary>
    internal static Dictionary<string, string> WithImageLoaderSetup(IReadOnlyDictionary<string, string> environment, string scratch)
    {
        var dockerfile = File.ReadAllText(Path.Combine(DeploymentFilesTests.Repository, "docker", "Dockerfile"));
        var link = SaslLink().Match(dockerfile);
        Assert.True(link.Success, "docker/Dockerfile: the runtime stage must link libsasl2.so.3 (ln -s <target> <dir>/libsasl2.so.3)");
        var linkPath = link.Groups["link"].Value;
        var target = Path.Combine(Path.GetDirectoryName(linkPath)!, link.Groups["target"].Value);
        Assert.True(File.Exists(target), $"docker/Dockerfile links {linkPath} to {target}, which this machine does not have");
        var folder = Directory.CreateDirectory(Path.Combine(scratch, "image-loader")).FullName;
        File.CreateSymbolicLink(Path.Combine(folder, Path.GetFileName(linkPath)), target);
        return new Dictionary<string, string>(environment) { ["LD_LIBRARY_PATH"] = folder };
    }

    [GeneratedRegex(@"ln -s (?<target>\S+) (?<link>/\S+/libsasl2\.so\.3)\b")]
    private static partial Regex SaslLink();

    [GeneratedRegex(@"^librdkafka probe: version=(?<version>\S+) path=(?<path>\S+) builtin\.features=(?<features>\S+)$", RegexOptions.Multiline)]
    private static partial Regex ProbeLine();
}
