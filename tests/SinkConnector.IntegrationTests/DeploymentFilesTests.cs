using System.Diagnostics;
using System.Globalization;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Configuration.Loading;
using SinkConnector.Testing;
using YamlDotNet.RepresentationModel;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// The container image, the compose file and the Kubernetes manifests in <c>docker/</c>. There is no container engine
/// here or in CI, so they are held to the repository instead: every file they name exists, every command is a real
/// <c>sink</c> command, the configuration they mount loads with the environment they give it, and the image's
/// publish step and an orchestrator's rolling restart are run with plain processes.
/// </summary>
public partial class DeploymentFilesTests(TestServices services)
{
    private const string SinkImage = "sinkconnector";

    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);
    private static readonly string s_repository = RepositoryFolder.Root;
    private static readonly string s_docker = Path.Combine(s_repository, "docker");

    internal static string Repository => s_repository;

    [Fact]
    public async Task Compose_file_and_manifests_are_valid_yaml_referencing_only_existing_files_and_settings()
    {
        var commands = new HashSet<string>(StringComparer.Ordinal);
        var healthPort = CheckDockerfile();
        await CheckComposeAsync(healthPort, commands);
        await CheckKubernetesAsync(commands);

        Assert.Contains("run", commands);
        Assert.Contains("migrate", commands);
        foreach (var command in commands)
        {
            // `sink anything --help` exits 0 (it prints the closest command's help), so the usage line is the check.
            var (exit, output) = await SinkProcess.RunToEndAsync([.. command.Split(' '), "--help"]);
            Assert.True(exit == 0, output);
            Assert.True(output.Contains($"  sink {command} [options]", StringComparison.Ordinal), $"'sink {command}' is not a sink command:\n{output}");
        }
    }

    [Fact]
    public async Task Published_app_runs_from_its_publish_folder_with_only_a_config()
    {
        const int count = 3_000, partitions = 3;
        var publish = Directory.CreateTempSubdirectory("sink-publish-").FullName;
        try
        {
            await PublishAsDockerfileDoesAsync(publish);
            Assert.True(File.Exists(Path.Combine(publish, "sink.dll")), "no sink.dll in the publish folder");
            Assert.True(File.Exists(Path.Combine(publish, "librdkafka.so")), "no librdkafka.so in the publish folder");
            Assert.True(IsReadyToRun(Path.Combine(publish, "SinkConnector.dll")), "SinkConnector.dll is not ReadyToRun-compiled");

            await using var bed = await SinkTestBed.CreateAsync(services, "published", partitions);
            await bed.ProduceAsync(count, partitions);
            // Nothing from this machine's environment: only what the config refers to, as in a container.
            using var sink = SinkProcess.Start(["run", "--config", bed.ConfigDirectory], NativeClientTests.WithImageLoaderSetup(bed.Environment, publish),
                dllPath: Path.Combine(publish, "sink.dll"), inheritEnvironment: false);
            await sink.WaitForOutputAsync("Claimed", s_catchUp);
            var maps = await File.ReadAllTextAsync($"/proc/{sink.Id}/maps", TestContext.Current.CancellationToken);
            Assert.True(maps.Contains(Path.Combine(publish, "librdkafka.so"), StringComparison.Ordinal), "librdkafka was not loaded from the publish folder");
            await bed.WaitForRowsAsync(count, s_catchUp, () => sink.Output);

            sink.Signal(SinkProcess.SIGTERM);
            await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
            Assert.True(sink.ExitCode == 0, sink.Output);
            await bed.AssertExactlyOnceAsync(count);
        }
        finally
        {
            Directory.Delete(publish, recursive: true);
        }
    }

    [Fact]
    public async Task Rolling_restart_of_three_sinks_loses_and_duplicates_nothing()
    {
        const int total = 15_000, partitions = 6, chunk = 500;
        await using var bed = await SinkTestBed.CreateAsync(services, "rolling", partitions);
        using var stopProducing = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var sinks = Enumerable.Range(0, 3).Select(_ => bed.StartSink()).ToList();
        string Outputs() => string.Join("\n----\n", sinks.Select(s => s.Output));
        try
        {
            foreach (var sink in sinks)
            {
                await sink.WaitForOutputAsync("Claimed", s_catchUp);
            }

            // A steady producer for the whole rollout, as in production: about 700 messages a second.
            var produced = 0;
            var producer = Task.Run(async () =>
            {
                while (Volatile.Read(ref produced) < total)
                {
                    await bed.ProduceAsync(chunk, partitions, firstId: produced);
                    Interlocked.Add(ref produced, chunk);
                    await Task.Delay(700, stopProducing.Token);
                }
            }, stopProducing.Token);

            var restartsWhileProducing = 0;
            for (var restart = 0; restart < 3; restart++)
            {
                // What an orchestrator does per replica: SIGTERM, wait for the exit, start the replacement.
                var old = sinks[0];
                sinks.RemoveAt(0);
                restartsWhileProducing += Volatile.Read(ref produced) < total ? 1 : 0;
                old.Signal(SinkProcess.SIGTERM);
                await old.WaitForExitAsync(TimeSpan.FromSeconds(30));
                Assert.True(old.ExitCode == 0, old.Output);
                Assert.Contains("Stopped cleanly", old.Output, StringComparison.Ordinal);
                old.Dispose();

                var replacement = bed.StartSink();
                sinks.Add(replacement);
                await replacement.WaitForOutputAsync("Claimed", s_catchUp);
            }

            await producer;
            Assert.True(restartsWhileProducing > 0, "the producer finished before the rollout began");
            await bed.WaitForCommittedAsync(total, s_catchUp, Outputs);

            foreach (var sink in sinks)
            {
                sink.Signal(SinkProcess.SIGTERM);
            }

            foreach (var sink in sinks)
            {
                await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
                Assert.True(sink.ExitCode == 0, sink.Output);
            }

            await bed.AssertExactlyOnceAsync(total);
        }
        finally
        {
            await stopProducing.CancelAsync();
            foreach (var sink in sinks)
            {
                sink.Dispose();
            }
        }
    }

    // ---- Dockerfile ----

    /// <summary>Checks docker/Dockerfile against the repository; returns the port its HEALTHCHECK calls.</summary>
    private static int CheckDockerfile()
    {
        var instructions = DockerfileInstructions();
        var ignored = DockerIgnorePatterns();
        foreach (var (keyword, arguments) in instructions.Where(i => i.Keyword == "COPY"))
        {
            var words = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Any(w => w.StartsWith("--from=", StringComparison.Ordinal)))
            {
                continue;
            }

            foreach (var source in words.Where(w => !w.StartsWith("--", StringComparison.Ordinal)).SkipLast(1))
            {
                var relative = source.TrimEnd('/');
                var path = Path.Combine(s_repository, relative);
                Assert.True(File.Exists(path) || Directory.Exists(path), $"Dockerfile: {keyword} {arguments}: {source} does not exist");
                Assert.False(IsDockerIgnored(relative, ignored), $"Dockerfile: {keyword} {arguments}: {source} is excluded by .dockerignore");
            }
        }

        var buildArgs = instructions.Where(i => i.Keyword == "ARG").Select(i => i.Arguments.Split('=', 2)).Where(a => a.Length == 2)
            .ToDictionary(a => a[0], a => a[1], StringComparer.Ordinal);
        var stages = instructions.Where(i => i.Keyword == "FROM")
            .Select(i => DockerArgument().Replace(i.Arguments, m => buildArgs.GetValueOrDefault(m.Groups[1].Value, m.Value)))
            .ToList();
        Assert.True(stages.Count >= 2, "Dockerfile: a build stage and a runtime stage");
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", stages[^1], StringComparison.Ordinal);

        var runs = instructions.Where(i => i.Keyword == "RUN").Select(i => i.Arguments).ToList();
        // Everything the build needs comes from NuGet (the native Kafka client is librdkafka.redist).
        Assert.DoesNotContain(runs, r => r.Contains("npm", StringComparison.Ordinal));
        Assert.Contains("-o /app", PublishCommand(), StringComparison.Ordinal);
        Assert.Contains(instructions, i => i.Keyword == "COPY" && i.Arguments.StartsWith("--from=build /app ", StringComparison.Ordinal));
        Assert.Equal("[\"dotnet\", \"/app/sink.dll\"]", Single(instructions, "ENTRYPOINT"));
        Assert.Equal("SIGTERM", Single(instructions, "STOPSIGNAL"));
        Assert.Contains(instructions, i => i.Keyword == "ENV" && i.Arguments.Contains("SINK_CONFIG=/config", StringComparison.Ordinal));
        var user = Single(instructions, "USER");
        Assert.True(user is not ("root" or "0") && !user.StartsWith("root:", StringComparison.Ordinal), $"Dockerfile: USER {user} is root");

        var health = HealthUrl().Match(Single(instructions, "HEALTHCHECK"));
        Assert.True(health.Success, "Dockerfile: HEALTHCHECK must call http://127.0.0.1:<port>/healthz");
        return int.Parse(health.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>The Dockerfile's instructions, continuation lines joined, comments dropped.</summary>
    private static List<(string Keyword, string Arguments)> DockerfileInstructions()
    {
        var instructions = new List<(string, string)>();
        var current = "";
        foreach (var raw in File.ReadAllLines(Path.Combine(s_docker, "Dockerfile")))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || line.Length == 0)
            {
                continue;
            }

            current += line.EndsWith('\\') ? line[..^1] + " " : line;
            if (!line.EndsWith('\\'))
            {
                var parts = Whitespace().Replace(current, " ").Split(' ', 2);
                instructions.Add((parts[0].ToUpperInvariant(), parts.Length > 1 ? parts[1].Trim() : ""));
                current = "";
            }
        }

        return instructions;
    }

    private static string Single(List<(string Keyword, string Arguments)> instructions, string keyword) =>
        Assert.Single(instructions, i => i.Keyword == keyword).Arguments;

    /// <summary>The Dockerfile's <c>dotnet publish</c> command line.</summary>
    private static string PublishCommand() =>
        Assert.Single(DockerfileInstructions(), i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet publish ", StringComparison.Ordinal)).Arguments;

    private static List<Regex> DockerIgnorePatterns() =>
        [.. File.ReadAllLines(Path.Combine(s_repository, ".dockerignore"))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => new Regex("^" + Regex.Escape(l.TrimEnd('/'))
                .Replace(@"\*\*/", "(.*/)?", StringComparison.Ordinal)
                .Replace(@"\*\*", ".*", StringComparison.Ordinal)
                .Replace(@"\*", "[^/]*", StringComparison.Ordinal)
                .Replace(@"\?", "[^/]", StringComparison.Ordinal) + "$"))];

    /// <summary>A path is excluded when it or one of its parent directories matches a pattern.</summary>
    private static bool IsDockerIgnored(string relativePath, List<Regex> patterns)
    {
        var parts = relativePath.Split('/');
        return Enumerable.Range(1, parts.Length).Any(n => patterns.Any(p => p.IsMatch(string.Join('/', parts[..n]))));
    }

    // ---- compose ----

    private async Task CheckComposeAsync(int imageHealthPort, HashSet<string> commands)
    {
        var file = Path.Combine(s_docker, "compose.yaml");
        var compose = Assert.IsType<YamlMappingNode>(Assert.Single(LoadYaml(file)));
        var composeServices = Mapping(compose, "services");
        var byName = composeServices.Children.ToDictionary(s => Text(s.Key), s => (YamlMappingNode)s.Value, StringComparer.Ordinal);
        var runReplicas = 0;
        var oneShots = new List<(string[] Args, Dictionary<string, string> Environment, string Config)>();
        AssertOneBuildOfTheSinkImage(byName);
        foreach (var (name, service) in byName)
        {
            AssertPublishedOnLoopbackOnly(name, service);
            foreach (var (source, target, readOnly) in BindMounts(service))
            {
                Assert.True(File.Exists(source) || Directory.Exists(source), $"compose: services.{name}.volumes: {source} does not exist");
                Assert.StartsWith(s_repository, source, StringComparison.Ordinal);
                Assert.True(readOnly, $"compose: services.{name}.volumes: {target} should be mounted read-only");
            }

            foreach (var (dependency, condition) in Get(service, "depends_on") is YamlMappingNode dependsOn
                ? dependsOn.Children.Select(d => (Text(d.Key), Text((YamlMappingNode)d.Value, "condition")))
                : [])
            {
                Assert.True(byName.ContainsKey(dependency), $"compose: services.{name}.depends_on: no service {dependency}");
                if (condition == "service_healthy")
                {
                    Assert.True(Get(byName[dependency], "healthcheck") is YamlMappingNode h && Get(h, "test") is not null,
                        $"compose: services.{name} waits for {dependency} to be healthy, which has no healthcheck");
                }
            }

            if (!Text(Get(service, "image")).StartsWith(SinkImage, StringComparison.Ordinal))
            {
                continue;
            }

            var args = Strings(Get(service, "command"));
            commands.Add(string.Join(' ', args.TakeWhile(a => !a.StartsWith('-'))));
            var environment = ComposeEnvironment(service);
            var config = BindMounts(service).SingleOrDefault(m => m.Target == "/config").Source
                ?? throw new InvalidOperationException($"compose: services.{name} mounts no configuration at /config");
            var settings = LoadConfig(config, environment, $"compose: services.{name}");
            AssertConnectionsPointAtComposeServices(byName, environment, name);

            var dependencies = Mapping(service, "depends_on");
            if (args[0] == "run")
            {
                var replicas = Get(service, "deploy") is YamlMappingNode deploy && Get(deploy, "replicas") is { } r ? int.Parse(Text(r), CultureInfo.InvariantCulture) : 1;
                runReplicas += replicas;
                var stopGrace = GoDuration(Text(Get(service, "stop_grace_period")));
                Assert.True(stopGrace > settings.Connector.ShutdownGrace, $"compose: services.{name}.stop_grace_period {stopGrace} must exceed shutdown_grace {settings.Connector.ShutdownGrace}");
                var listen = settings.Connector.Http?.Listen ?? throw new InvalidOperationException($"{config}: http.listen is needed for the healthcheck");
                var health = HealthUrl().Match(string.Join(' ', Strings(Get(Mapping(service, "healthcheck"), "test"))));
                Assert.True(health.Success, $"compose: services.{name}.healthcheck must call /healthz");
                Assert.Equal(ListenPort(listen), int.Parse(health.Groups[1].Value, CultureInfo.InvariantCulture));
                Assert.Equal(ListenPort(listen), imageHealthPort);
                Assert.Contains(dependencies.Children, d => Strings(Get(byName[Text(d.Key)], "command")).FirstOrDefault() == "migrate"
                    && Text((YamlMappingNode)d.Value, "condition") == "service_completed_successfully");
                Assert.Contains(dependencies.Children, d => Text(d.Key) == "kafka" && Text((YamlMappingNode)d.Value, "condition") == "service_healthy");
            }
            else
            {
                // One-shot: the image's HEALTHCHECK (an HTTP endpoint only `run` serves) would report it unhealthy.
                Assert.Equal("true", Text(Get(Mapping(service, "healthcheck"), "disable")));
                Assert.Contains(dependencies.Children, d => Text(d.Key) == "postgres" && Text((YamlMappingNode)d.Value, "condition") == "service_healthy");
                oneShots.Add((args, environment, config));
            }
        }

        Assert.True(runReplicas >= 2, "compose: at least two `sink run` replicas in one group");
        Assert.NotEmpty(oneShots);

        // What `docker compose up` does to a fresh database before the replicas start: the init scripts, then the one-shots.
        var database = await services.Postgres.CreateDatabaseAsync("compose", TestContext.Current.CancellationToken);
        foreach (var (source, _, _) in BindMounts(byName["postgres"]).Where(m => m.Target.StartsWith("/docker-entrypoint-initdb.d/", StringComparison.Ordinal)))
        {
            await ExecuteAsync(database, await File.ReadAllTextAsync(source, TestContext.Current.CancellationToken));
        }

        foreach (var (args, environment, config) in oneShots)
        {
            await RunAgainstTestServicesAsync(args, environment, config, database);
        }

        await RunAgainstTestServicesAsync(["validate"], oneShots[0].Environment, oneShots[0].Config, database);
    }

    /// <summary>
    /// One service builds the sink image and the others run that tag: with a <c>build</c> each, compose builds the
    /// same image once per service. The others must not pull it (it is in no registry) and must start after the build.
    /// </summary>
    private static void AssertOneBuildOfTheSinkImage(Dictionary<string, YamlMappingNode> byName)
    {
        var users = byName.Where(s => Text(Get(s.Value, "image")).StartsWith(SinkImage, StringComparison.Ordinal)).ToList();
        var builder = Assert.Single(users, s => Get(s.Value, "build") is not null);
        var build = Mapping(builder.Value, "build");
        Assert.True(File.Exists(Path.Combine(s_docker, Text(Get(build, "context")), Text(Get(build, "dockerfile")))), $"compose: services.{builder.Key}.build: no Dockerfile");
        foreach (var (name, service) in users.Where(s => s.Key != builder.Key))
        {
            Assert.True(Text(Get(service, "image")) == Text(Get(builder.Value, "image")), $"compose: services.{name} runs another image than services.{builder.Key} builds");
            Assert.True(Text(Get(service, "pull_policy")) == "never", $"compose: services.{name}: pull_policy: never (the image is built by services.{builder.Key}, not pulled)");
            Assert.True(DependsOn(byName, name, builder.Key), $"compose: services.{name} must start after services.{builder.Key}, which builds its image");
        }
    }

    private static bool DependsOn(Dictionary<string, YamlMappingNode> byName, string service, string dependency) =>
        Get(byName[service], "depends_on") is YamlMappingNode dependsOn
        && dependsOn.Children.Select(d => Text(d.Key)).Any(d => d == dependency || DependsOn(byName, d, dependency));

    /// <summary>Published ports listen on the loopback interface only: the stack's Postgres and Kafka use default credentials or none.</summary>
    private static void AssertPublishedOnLoopbackOnly(string name, YamlMappingNode service)
    {
        foreach (var port in Sequence(service, "ports"))
        {
            // Short syntax [HOST_IP:]HOST_PORT:CONTAINER_PORT; long syntax { target, published, host_ip }.
            var hostIp = port is YamlMappingNode longSyntax
                ? Text(longSyntax, "host_ip")
                : Text(port).Split(':') is { Length: 3 } parts ? parts[0] : "";
            Assert.True(hostIp == "127.0.0.1", $"compose: services.{name}.ports: {(port is YamlScalarNode ? Text(port) : port.ToString())} is published on every interface; bind it to 127.0.0.1");
        }
    }

    /// <summary>Host paths of the service's bind mounts (short syntax), relative to the compose file.</summary>
    private static IEnumerable<(string Source, string Target, bool ReadOnly)> BindMounts(YamlMappingNode service) =>
        Strings(Get(service, "volumes"))
            .Select(v => v.Split(':'))
            .Where(p => p[0].StartsWith('.') || p[0].StartsWith('/'))
            .Select(p => (Path.GetFullPath(Path.Combine(s_docker, p[0])), p[1], p.Length > 2 && p[2].Split(',').Contains("ro")));

    /// <summary>The service's environment after compose's own interpolation, with nothing from the host: defaults only.</summary>
    private static Dictionary<string, string> ComposeEnvironment(YamlMappingNode service)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in Get(service, "environment") switch
        {
            YamlMappingNode map => map.Children.Select(e => (Text(e.Key), Text(e.Value))),
            YamlSequenceNode list => list.Children.Select(e => Text(e).Split('=', 2)).Select(p => (p[0], p.Length > 1 ? p[1] : "")),
            _ => [],
        })
        {
            environment[key] = ComposeVariable().Replace(value.Replace("$$", "\0", StringComparison.Ordinal), m => m.Groups[2].Success
                ? m.Groups[2].Value
                : throw new InvalidOperationException($"compose: {key}: ${{{m.Groups[1].Value}}} has no default; `docker compose up` would need it from the host"))
                .Replace("\0", "$", StringComparison.Ordinal);
        }

        return environment;
    }

    /// <summary>The connection settings the sinks get name the compose services and match their credentials.</summary>
    private static void AssertConnectionsPointAtComposeServices(Dictionary<string, YamlMappingNode> composeServices, Dictionary<string, string> environment, string name)
    {
        var postgres = new NpgsqlConnectionStringBuilder(environment["SINK_POSTGRES"]);
        Assert.True(composeServices.ContainsKey(postgres.Host ?? ""), $"compose: services.{name}: SINK_POSTGRES names host {postgres.Host}, which is no service");
        var server = ComposeEnvironment(composeServices[postgres.Host!]);
        Assert.True(postgres.Username == server["POSTGRES_USER"] && postgres.Database == server["POSTGRES_DB"] && postgres.Password == server["POSTGRES_PASSWORD"],
            $"compose: services.{name}: SINK_POSTGRES does not match the postgres service's user, database and password");

        var advertised = ComposeEnvironment(composeServices["kafka"])["KAFKA_ADVERTISED_LISTENERS"].Split(',').Select(l => l.Split("://")[1]).ToList();
        foreach (var broker in environment["KAFKA_BOOTSTRAP"].Split(','))
        {
            Assert.True(advertised.Contains(broker), $"compose: services.{name}: KAFKA_BOOTSTRAP {broker} is not a listener the kafka service advertises");
        }
    }

    private static TimeSpan GoDuration(string text)
    {
        var parts = GoDurationPart().Matches(text);
        Assert.True(parts.Sum(p => p.Length) == text.Length && parts.Count > 0, $"'{text}' is not a duration");
        return parts.Aggregate(TimeSpan.Zero, (sum, p) => sum + (p.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(int.Parse(p.Groups[1].Value, CultureInfo.InvariantCulture)),
            "s" => TimeSpan.FromSeconds(int.Parse(p.Groups[1].Value, CultureInfo.InvariantCulture)),
            "m" => TimeSpan.FromMinutes(int.Parse(p.Groups[1].Value, CultureInfo.InvariantCulture)),
            _ => TimeSpan.FromHours(int.Parse(p.Groups[1].Value, CultureInfo.InvariantCulture)),
        }));
    }

    // ---- Kubernetes ----

    private async Task CheckKubernetesAsync(HashSet<string> commands)
    {
        var directory = Path.Combine(s_docker, "k8s");
        var documents = Directory.EnumerateFiles(directory, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .SelectMany(f => LoadYaml(f).Select(d => (File: Path.GetRelativePath(directory, f), Node: Assert.IsType<YamlMappingNode>(d))))
            .ToList();
        var objects = documents.Where(d => Text(d.Node, "kind") is not ("Kustomization" or "Component")).ToList();
        foreach (var (file, node) in objects)
        {
            Assert.True(Get(node, "apiVersion") is not null && Get(node, "kind") is not null && Get(Mapping(node, "metadata"), "name") is not null,
                $"k8s/{file}: apiVersion, kind and metadata.name are required");
        }

        string Name(YamlMappingNode node) => Text(Mapping(node, "metadata"), "name");
        var secrets = objects.Where(o => Text(o.Node, "kind") == "Secret").ToDictionary(o => Name(o.Node), o => Mapping(o.Node, "stringData"), StringComparer.Ordinal);
        var configMaps = objects.Where(o => Text(o.Node, "kind") == "ConfigMap").ToDictionary(o => Name(o.Node), o => Mapping(o.Node, "data"), StringComparer.Ordinal);
        var kustomizations = KustomizeRoots(directory);
        CheckKustomizations(kustomizations, objects);

        var workloads = objects.Where(o => Text(o.Node, "kind") is "StatefulSet" or "Deployment" or "Job").ToList();
        Assert.Contains(workloads, w => Text(w.Node, "kind") == "Job");

        var temporary = Directory.CreateTempSubdirectory("sink-k8s-").FullName;
        try
        {
            var runs = 0;
            foreach (var (file, workload) in workloads)
            {
                var where = $"k8s/{file}";
                var kind = Text(workload, "kind");
                var pod = Mapping(Mapping(Mapping(workload, "spec"), "template"), "spec");
                var volumes = Sequence(pod, "volumes").Cast<YamlMappingNode>().ToDictionary(v => Text(v, "name"), StringComparer.Ordinal);
                Assert.Equal("true", Text(Mapping(pod, "securityContext"), "runAsNonRoot"));
                var containers = Sequence(pod, "initContainers").Concat(Sequence(pod, "containers")).Cast<YamlMappingNode>()
                    .Where(c => Text(c, "image").Contains(SinkImage, StringComparison.Ordinal)).ToList();
                Assert.NotEmpty(containers);
                var steps = new List<(string[] Args, Dictionary<string, string> Environment, string Config)>();
                foreach (var container in containers)
                {
                    var at = $"{where}: container {Text(container, "name")}";
                    Assert.True(Get(container, "command") is null, $"{at}: `command` would replace the image's entrypoint (dotnet /app/sink.dll); use args");
                    var args = Strings(Get(container, "args"));
                    commands.Add(string.Join(' ', args.TakeWhile(a => !a.StartsWith('-'))));
                    var environment = PodEnvironment(container, secrets, $"{Text(Mapping(workload, "metadata"), "name")}-0", at);
                    var security = Mapping(container, "securityContext");
                    Assert.True(Text(security, "readOnlyRootFilesystem") == "true" && Text(security, "allowPrivilegeEscalation") == "false", $"{at}: read-only root, no privilege escalation");

                    var mounts = Sequence(container, "volumeMounts").Cast<YamlMappingNode>().ToDictionary(m => Text(m, "mountPath"), StringComparer.Ordinal);
                    Assert.True(mounts.TryGetValue("/tmp", out var tmp) && Get(volumes[Text(tmp, "name")], "emptyDir") is not null, $"{at}: /tmp must be an emptyDir (the root filesystem is read-only)");
                    var configPath = environment.GetValueOrDefault("SINK_CONFIG", "/config");
                    Assert.True(mounts.TryGetValue(configPath, out var configMount), $"{at}: nothing mounted at {configPath}");
                    Assert.Equal("true", Text(configMount, "readOnly"));
                    var config = MaterializeConfigMap(volumes[Text(configMount, "name")], configMaps, Path.Combine(temporary, $"{file}-{Text(container, "name")}"), at);
                    var settings = LoadConfig(config, environment, at);
                    steps.Add((args, environment, config));
                    if (args[0] != "run")
                    {
                        continue;
                    }

                    runs++;
                    var grace = int.Parse(Text(pod, "terminationGracePeriodSeconds"), CultureInfo.InvariantCulture);
                    Assert.True(TimeSpan.FromSeconds(grace) > settings.Connector.ShutdownGrace, $"{where}: terminationGracePeriodSeconds {grace} must exceed shutdown_grace {settings.Connector.ShutdownGrace}");
                    var listen = settings.Connector.Http?.Listen ?? throw new InvalidOperationException($"{at}: sink.yaml needs http.listen for the probes");
                    Assert.True(listen.StartsWith("0.0.0.0:", StringComparison.Ordinal) || listen.StartsWith("[::]:", StringComparison.Ordinal), $"{at}: http.listen {listen} is not reachable by the kubelet");
                    AssertProbe(container, "livenessProbe", "/healthz", ListenPort(listen), at);
                    AssertProbe(container, "readinessProbe", "/readyz", ListenPort(listen), at);
                    var resources = Mapping(container, "resources");
                    Assert.True(Get(Mapping(resources, "requests"), "memory") is not null && Get(Mapping(resources, "limits"), "memory") is not null, $"{at}: memory request and limit");

                    // Static membership only pays off with pod names that survive a rollout: a StatefulSet's.
                    Assert.True(settings.Connector.Kafka.Properties.TryGetValue("group.instance.id", out var instance) && instance == environment["POD_NAME"],
                        $"{at}: kafka.properties.group.instance.id should be the pod name");
                    Assert.Equal("StatefulSet", kind);
                    Assert.Equal("3", Text(Mapping(workload, "spec"), "replicas"));
                }

                if (kind == "Job")
                {
                    // The Job's steps, in order, against a fresh database; the sink's own check must pass afterwards.
                    var database = await services.Postgres.CreateDatabaseAsync("k8sjob", TestContext.Current.CancellationToken);
                    foreach (var (args, environment, config) in steps)
                    {
                        await RunAgainstTestServicesAsync(args, environment, config, database);
                    }

                    await RunAgainstTestServicesAsync(["validate"], steps[0].Environment, steps[0].Config, database);
                }
            }

            Assert.Equal(1, runs);
        }
        finally
        {
            Directory.Delete(temporary, recursive: true);
        }
    }

    /// <summary>What one <c>kubectl apply -k DIR</c> applies: the manifest files and the <c>images</c> entries that rewrite them.</summary>
    private sealed record KustomizeBuild(string Directory, HashSet<string> Files, Dictionary<string, YamlMappingNode> Images);

    /// <summary>
    /// Every kustomization under <paramref name="k8s"/> that no other one includes (what an operator applies with
    /// -k), resolved as kustomize does: resources (files in its own directory, or other kustomizations) and
    /// components, whose <c>images</c> apply to everything the including kustomization holds.
    /// </summary>
    private static List<KustomizeBuild> KustomizeRoots(string k8s)
    {
        var all = Directory.EnumerateFiles(k8s, "kustomization.yaml", SearchOption.AllDirectories).Select(Path.GetDirectoryName).Cast<string>().ToList();
        var included = new HashSet<string>(StringComparer.Ordinal);
        var builds = all.Select(d => Kustomize(d, included)).ToList();
        return builds.Where(b => !included.Contains(b.Directory)).ToList();
    }

    private static KustomizeBuild Kustomize(string directory, HashSet<string> included)
    {
        var at = $"k8s/{Path.GetRelativePath(Path.Combine(s_docker, "k8s"), Path.Combine(directory, "kustomization.yaml"))}";
        var node = Assert.IsType<YamlMappingNode>(Assert.Single(LoadYaml(Path.Combine(directory, "kustomization.yaml"))));
        Assert.True(Text(node, "kind") is "Kustomization" or "Component", $"{at}: kind must be Kustomization or Component");
        var build = new KustomizeBuild(directory, new HashSet<string>(StringComparer.Ordinal), new Dictionary<string, YamlMappingNode>(StringComparer.Ordinal));
        foreach (var (key, isComponent) in new[] { ("resources", false), ("components", true) })
        {
            foreach (var entry in Strings(Get(node, key)))
            {
                var path = Path.GetFullPath(Path.Combine(directory, entry));
                if (File.Exists(path))
                {
                    // kustomize's load restrictor: a file must be in or below the kustomization's directory.
                    Assert.True(!isComponent && path.StartsWith(directory + Path.DirectorySeparatorChar, StringComparison.Ordinal), $"{at}: {key}: {entry} must be a file below the kustomization's directory");
                    build.Files.Add(path);
                    continue;
                }

                Assert.True(File.Exists(Path.Combine(path, "kustomization.yaml")), $"{at}: {key}: {entry} does not exist");
                included.Add(path);
                var inner = Kustomize(path, included);
                build.Files.UnionWith(inner.Files);
                if (isComponent)
                {
                    foreach (var (name, image) in inner.Images)
                    {
                        build.Images[name] = image;
                    }
                }
            }
        }

        foreach (var image in Sequence(node, "images").Cast<YamlMappingNode>())
        {
            build.Images[Text(image, "name")] = image;
        }

        return build;
    }

    /// <summary>
    /// What <c>kubectl apply -k</c> would do with the manifests: never overwrite a Secret (operators create it from
    /// a secret store), reach every workload with the one <c>images</c> entry that names the sink's image, and bring
    /// each workload the ConfigMaps it mounts.
    /// </summary>
    private static void CheckKustomizations(List<KustomizeBuild> roots, List<(string File, YamlMappingNode Node)> objects)
    {
        var k8s = Path.Combine(s_docker, "k8s");
        var byFile = objects.ToLookup(o => Path.Combine(k8s, o.File));
        foreach (var root in roots)
        {
            foreach (var (file, node) in root.Files.SelectMany(f => byFile[f]))
            {
                Assert.True(Text(node, "kind") != "Secret",
                    $"k8s/{Path.GetRelativePath(k8s, root.Directory)}: includes the Secret in k8s/{file}; `kubectl apply -k` would overwrite the real one with its placeholders");
            }
        }

        var imageEntries = Directory.EnumerateFiles(k8s, "kustomization.yaml", SearchOption.AllDirectories)
            .SelectMany(f => Sequence(Assert.IsType<YamlMappingNode>(LoadYaml(f)[0]), "images").Cast<YamlMappingNode>())
            .Where(i => Text(i, "name") == SinkImage).ToList();
        Assert.True(imageEntries.Count == 1, $"k8s: {imageEntries.Count} kustomize images entries name `{SinkImage}`; the image must be set in exactly one place");
        var entry = imageEntries[0];
        Assert.True(Get(entry, "newTag") is not null || Get(entry, "digest") is not null, "k8s: the images entry must pin a tag or digest");

        foreach (var (file, workload) in objects.Where(o => Text(o.Node, "kind") is "StatefulSet" or "Deployment" or "Job"))
        {
            var path = Path.Combine(k8s, file);
            var applying = roots.Where(r => r.Files.Contains(path)).ToList();
            Assert.True(applying.Count == 1, $"k8s/{file}: applied by {applying.Count} kustomizations, not one: with `kubectl apply -f` the images entry would not reach it");
            var root = applying[0];
            var pod = Mapping(Mapping(Mapping(workload, "spec"), "template"), "spec");
            foreach (var container in Sequence(pod, "initContainers").Concat(Sequence(pod, "containers")).Cast<YamlMappingNode>())
            {
                var image = Text(container, "image");
                Assert.True(image == SinkImage, $"k8s/{file}: container {Text(container, "name")}: image {image}: name it `{SinkImage}` only; the registry and tag are set once, in the images entry");
                Assert.True(root.Images.ContainsKey(SinkImage), $"k8s/{file}: the kustomization that applies it ({Path.GetRelativePath(k8s, root.Directory)}) has no images entry for {SinkImage}");
            }

            foreach (var volume in Sequence(pod, "volumes").Cast<YamlMappingNode>().Where(v => Get(v, "configMap") is not null))
            {
                var configMap = Text(Mapping(volume, "configMap"), "name");
                Assert.True(root.Files.SelectMany(f => byFile[f]).Any(o => Text(o.Node, "kind") == "ConfigMap" && Text(Mapping(o.Node, "metadata"), "name") == configMap),
                    $"k8s/{file}: mounts ConfigMap {configMap}, which `kubectl apply -k {Path.GetRelativePath(s_repository, root.Directory)}` does not create");
            }
        }
    }

    /// <summary>The container's environment as the kubelet builds it: literal values, Secret keys, the pod name.</summary>
    private static Dictionary<string, string> PodEnvironment(YamlMappingNode container, Dictionary<string, YamlMappingNode> secrets, string podName, string at)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var variable in Sequence(container, "env").Cast<YamlMappingNode>())
        {
            var name = Text(variable, "name");
            if (Get(variable, "value") is { } value)
            {
                environment[name] = Text(value);
                continue;
            }

            var from = Mapping(variable, "valueFrom");
            if (Get(from, "secretKeyRef") is YamlMappingNode secretRef)
            {
                Assert.True(secrets.TryGetValue(Text(secretRef, "name"), out var secret), $"{at}: env {name}: no Secret {Text(secretRef, "name")}");
                Assert.True(Get(secret, Text(secretRef, "key")) is not null, $"{at}: env {name}: Secret {Text(secretRef, "name")} has no key {Text(secretRef, "key")}");
                environment[name] = Text(secret, Text(secretRef, "key"));
            }
            else
            {
                Assert.Equal("metadata.name", Text(Mapping(from, "fieldRef"), "fieldPath"));
                environment[name] = podName;
            }
        }

        return environment;
    }

    /// <summary>Writes a configMap volume the way the kubelet projects it; every key must be projected.</summary>
    private static string MaterializeConfigMap(YamlMappingNode volume, Dictionary<string, YamlMappingNode> configMaps, string directory, string at)
    {
        var source = Mapping(volume, "configMap");
        Assert.True(configMaps.TryGetValue(Text(source, "name"), out var data), $"{at}: no ConfigMap {Text(source, "name")}");
        var paths = Get(source, "items") is YamlSequenceNode items
            ? items.Children.Cast<YamlMappingNode>().ToDictionary(i => Text(i, "key"), i => Text(i, "path"), StringComparer.Ordinal)
            : data.Children.ToDictionary(d => Text(d.Key), d => Text(d.Key), StringComparer.Ordinal);
        foreach (var (key, content) in data.Children.Select(d => (Text(d.Key), Text(d.Value))))
        {
            Assert.True(paths.TryGetValue(key, out var path), $"{at}: ConfigMap key {key} is not projected into the volume (items)");
            var file = Path.Combine(directory, path);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, content);
        }

        Assert.True(paths.Keys.All(k => Get(data, k) is not null), $"{at}: the volume projects a key its ConfigMap lacks");
        return directory;
    }

    private static void AssertProbe(YamlMappingNode container, string probe, string path, int port, string at)
    {
        var get = Mapping(Mapping(container, probe), "httpGet");
        Assert.True(Text(get, "path") == path, $"{at}: {probe} should call {path}");
        var named = Text(get, "port");
        var containerPort = int.TryParse(named, CultureInfo.InvariantCulture, out var number)
            ? number
            : int.Parse(Text(Sequence(container, "ports").Cast<YamlMappingNode>().Single(p => Text(p, "name") == named), "containerPort"), CultureInfo.InvariantCulture);
        Assert.True(containerPort == port, $"{at}: {probe} port {containerPort} is not http.listen's port {port}");
    }

    // ---- shared ----

    private static SinkConfig LoadConfig(string directory, Dictionary<string, string> environment, string at)
    {
        try
        {
            return ConfigLoader.Load(directory, name => environment.GetValueOrDefault(name));
        }
        catch (ConfigException e)
        {
            Assert.Fail($"{at}: the configuration does not load with the environment given to it:\n{e.Message}");
            throw;
        }
    }

    /// <summary>Runs a one-shot command with its deployment's environment, the servers swapped for the test's.</summary>
    private async Task RunAgainstTestServicesAsync(string[] args, Dictionary<string, string> environment, string config, string database)
    {
        var local = new Dictionary<string, string>(environment, StringComparer.Ordinal)
        {
            ["SINK_CONFIG"] = config,
            ["SINK_POSTGRES"] = database,
            ["KAFKA_BOOTSTRAP"] = services.Kafka.BootstrapServers,
        };
        var (exit, output) = await SinkProcess.RunToEndAsync(args, local);
        Assert.True(exit == 0, $"sink {string.Join(' ', args)} with {config}: exit {exit}\n{output}");
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// The Dockerfile's publish command with only the output folder changed; packages come from the restore the test
    /// build already did (<c>--no-restore</c>, as in the image), so nothing is downloaded.
    /// </summary>
    /// <summary>A ReadyToRun image carries native code, announced by the CLI header's managed native header.</summary>
    private static bool IsReadyToRun(string assembly)
    {
        using var reader = new PEReader(File.OpenRead(assembly));
        return reader.PEHeaders.CorHeader?.ManagedNativeHeaderDirectory.Size > 0;
    }

    internal static async Task PublishAsDockerfileDoesAsync(string output)
    {
        var words = PublishCommand().Split(' ');
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = s_repository,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        for (var i = 1; i < words.Length; i++)
        {
            info.ArgumentList.Add(words[i - 1] == "-o" ? output : words[i]);
        }

        // No compiler or MSBuild servers left behind holding this test's output pipes open.
        info.ArgumentList.Add("--disable-build-servers");
        info.ArgumentList.Add("-nologo");
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start dotnet publish");
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', info.ArgumentList)}: exit {process.ExitCode}\n{await stdout}\n{await stderr}");
    }

    private static List<YamlNode> LoadYaml(string file)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(File.ReadAllText(file));
        try
        {
            stream.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            Assert.Fail($"{file}: not valid YAML: {e.Message}");
        }

        return [.. stream.Documents.Select(d => d.RootNode)];
    }

    private static YamlNode? Get(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static YamlMappingNode Mapping(YamlMappingNode node, string key) =>
        Get(node, key) as YamlMappingNode ?? throw new InvalidOperationException($"'{key}' should be a mapping in {node.Start}");

    private static IEnumerable<YamlNode> Sequence(YamlMappingNode node, string key) =>
        Get(node, key) is YamlSequenceNode sequence ? sequence.Children : [];

    private static string Text(YamlNode? node) => (node as YamlScalarNode)?.Value ?? "";

    private static string Text(YamlMappingNode node, string key) => Text(Get(node, key));

    /// <summary>A YAML list of strings, or a single string split on spaces (compose's short command form).</summary>
    private static string[] Strings(YamlNode? node) => node switch
    {
        YamlSequenceNode sequence => [.. sequence.Children.Select(Text)],
        YamlScalarNode scalar => scalar.Value?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [],
        _ => [],
    };

    private static int ListenPort(string listen) => int.Parse(listen[(listen.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);

    [GeneratedRegex(@"http://127\.0\.0\.1:(\d+)/healthz")]
    private static partial Regex HealthUrl();

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex DockerArgument();

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")]
    private static partial Regex ComposeVariable();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"(\d+)(ms|s|m|h)")]
    private static partial Regex GoDurationPart();
}
