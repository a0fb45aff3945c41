using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Confluent.Kafka;

namespace SinkConnector.Testing;

/// <summary>
/// A throwaway single-node Apache Kafka broker from a local distribution (<c>KAFKA_HOME</c>), ZooKeeper mode:
/// ZooKeeper then the broker as <c>java</c> child processes on free 127.0.0.1 ports, data and logs in a temp
/// folder. Stopped by pid (the distribution's stop scripts signal every broker on the machine).
/// <para>
/// A test host that dies without disposing (killed by a hang timeout, SIGKILL) must not leave a broker behind:
/// a watchdog shell in its own session polls the host's pid and stops whatever the pid files in the folder name,
/// then removes the folder. Should the watchdog die too, the next start removes folders whose owner is gone.
/// </para>
/// </summary>
public sealed partial class LocalKafkaBroker : IDisposable
{
    private const string FolderPrefix = "sinkconnector-kafka-";
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(120);

    private readonly string _home;
    private readonly string _folder;
    private readonly int _zooKeeperPort;
    private Process? _zooKeeper;
    private Process? _broker;
    private Process? _watchdog;

    // Set by KillBroker: the dead broker's ZooKeeper registration outlives it until its session expires.
    private bool _brokerKilled;

    private LocalKafkaBroker(string home, string version, string folder, int zooKeeperPort, int port)
    {
        _home = home;
        Version = version;
        _folder = folder;
        _zooKeeperPort = zooKeeperPort;
        Port = port;
    }

    /// <summary>The distribution's version, e.g. <c>2.4.0</c>.</summary>
    public string Version { get; }

    public int Port { get; }

    public string BootstrapServers => $"127.0.0.1:{Port}";

    public string Description => $"Apache Kafka {Version} broker from {_home} (ZooKeeper mode) on {BootstrapServers}";

    /// <summary>The largest message the broker accepts: room for the tests' 1 MiB poison messages (the broker default is 1,000,012 bytes).</summary>
    public const int MessageMaxBytes = 8 * 1024 * 1024;

    /// <summary>Whether <paramref name="folder"/> holds a Kafka distribution (a broker jar under <c>libs/</c>).</summary>
    public static bool IsDistribution(string folder) => FindVersion(folder) is not null;

    public static async Task<LocalKafkaBroker> StartAsync(string kafkaHome, CancellationToken cancellationToken = default)
    {
        RemoveLeftovers();
        var version = FindVersion(kafkaHome) ?? throw new InvalidOperationException($"{kafkaHome} is not a Kafka distribution (no libs/kafka_*.jar)");
        if (!Directory.EnumerateFiles(Path.Combine(kafkaHome, "libs"), "zookeeper-*.jar").Any())
        {
            // Kafka 4 dropped ZooKeeper; starting a KRaft broker is not implemented here.
            throw new NotSupportedException($"Kafka {version} in {kafkaHome} has no ZooKeeper: only ZooKeeper-mode distributions (2.x, 3.x) are supported; point SINK_TEST_KAFKA at a running broker instead");
        }

        var folder = Directory.CreateTempSubdirectory(FolderPrefix).FullName;
        var broker = new LocalKafkaBroker(Path.GetFullPath(kafkaHome), version, folder, LocalPorts.Free(), LocalPorts.Free());
        try
        {
            await broker.WriteConfigAsync(cancellationToken);
            broker.StartWatchdog();
            broker._zooKeeper = broker.StartJava("zookeeper", "-Xmx256m", "org.apache.zookeeper.server.quorum.QuorumPeerMain", "zookeeper.properties");
            await broker.WaitForZooKeeperAsync(cancellationToken);
            await broker.StartBrokerAsync(cancellationToken);
        }
        catch
        {
            broker.Dispose();
            throw;
        }

        return broker;
    }

    /// <summary>Starts the broker (again, after <see cref="StopBroker"/>) on the same port and data, and waits until it answers a metadata request.</summary>
    public async Task StartBrokerAsync(CancellationToken cancellationToken = default)
    {
        if (_broker is { HasExited: false })
        {
            throw new InvalidOperationException("the broker is running");
        }

        if (_brokerKilled)
        {
            await WaitForRegistrationExpiryAsync(cancellationToken);
            _brokerKilled = false;
        }

        _broker = StartJava("broker", "-Xmx512m", "kafka.Kafka", "server.properties");
        await WaitForMetadataAsync(cancellationToken);
    }

    /// <summary>Stops the broker (SIGTERM: a controlled shutdown, logs flushed); ZooKeeper keeps running.</summary>
    public void StopBroker() => Stop(ref _broker, "broker", TimeSpan.FromSeconds(60));

    /// <summary>
    /// Kills the broker (SIGKILL: no controlled shutdown, no clean-shutdown marker; the next start recovers its logs).
    /// What it acknowledged survives: the page cache outlives the process. ZooKeeper keeps running.
    /// </summary>
    public void KillBroker()
    {
        if (_broker is { HasExited: false })
        {
            _brokerKilled = true;
        }

        Stop(ref _broker, "broker", TimeSpan.Zero, SIGKILL);
    }

    public void Dispose()
    {
        StopBroker();
        Stop(ref _zooKeeper, "zookeeper", TimeSpan.FromSeconds(20));
        if (_watchdog is { HasExited: false })
        {
            _watchdog.Kill();
        }

        _watchdog?.Dispose();
        _watchdog = null;
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    /// <summary>The last lines of a process's log, for failure messages.</summary>
    public string LogTail(string name, int lines = 40)
    {
        var path = Path.Combine(_folder, $"{name}.log");
        return File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(lines)) : $"(no {name}.log)";
    }

    private static string? FindVersion(string folder)
    {
        var libs = Path.Combine(folder, "libs");
        if (!Directory.Exists(libs))
        {
            return null;
        }

        // The broker jar is kafka_<scala>-<version>.jar; the -sources, -test, -javadoc jars are not it.
        return Directory.EnumerateFiles(libs, "kafka_*.jar")
            .Select(path => BrokerJar().Match(Path.GetFileName(path)))
            .Where(m => m.Success)
            .Select(m => m.Groups[1].Value)
            .FirstOrDefault();
    }

    [GeneratedRegex(@"^kafka_[0-9.]+-([0-9]+\.[0-9]+\.[0-9]+)\.jar$")]
    private static partial Regex BrokerJar();

    private async Task WriteConfigAsync(CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(Path.Combine(_folder, "owner.pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_folder, "zookeeper.properties"), $"""
            dataDir={_folder}/zookeeper
            clientPort={_zooKeeperPort}
            clientPortAddress=127.0.0.1
            maxClientCnxns=0
            admin.enableServer=false
            4lw.commands.whitelist=srvr,dump
            """, cancellationToken);
        // A single-node broker: every internal topic with one replica; no initial rebalance delay (the default 3 s
        // delays the first join of every test group); few partitions for the offsets topic, created on the first
        // group's first request (50 by default take seconds on a busy 2-core machine).
        await File.WriteAllTextAsync(Path.Combine(_folder, "server.properties"), $"""
            broker.id=0
            listeners=PLAINTEXT://127.0.0.1:{Port}
            advertised.listeners=PLAINTEXT://127.0.0.1:{Port}
            zookeeper.connect=127.0.0.1:{_zooKeeperPort}
            zookeeper.connection.timeout.ms=30000
            zookeeper.session.timeout.ms={ZooKeeperSessionTimeoutMs}
            log.dirs={_folder}/kafka-logs
            num.partitions=1
            offsets.topic.replication.factor=1
            offsets.topic.num.partitions=4
            transaction.state.log.replication.factor=1
            transaction.state.log.min.isr=1
            transaction.state.log.num.partitions=4
            group.initial.rebalance.delay.ms=0
            message.max.bytes={MessageMaxBytes}
            replica.fetch.max.bytes={MessageMaxBytes}
            num.network.threads=2
            num.io.threads=4
            num.recovery.threads.per.data.dir=1
            log.cleaner.enable=false
            """, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_folder, "log4j.properties"), """
            log4j.rootLogger=INFO, stdout
            log4j.appender.stdout=org.apache.log4j.ConsoleAppender
            log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
            log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
            log4j.logger.kafka.request.logger=WARN
            log4j.logger.state.change.logger=WARN
            log4j.logger.org.apache.zookeeper=WARN
            """, cancellationToken);
    }

    /// <summary>Starts java with its output appended to <c>name.log</c>; its pid goes to <c>name.pid</c> for the watchdog.</summary>
    private Process StartJava(string name, string heap, string mainClass, string properties)
    {
        // sh execs java, so the pid is java's, and java writes straight to the file: nothing to drain, no pipe
        // to this process that could block it.
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var arg in (string[])
        [
            "-c", "exec \"$@\" >>\"$0\" 2>&1", Path.Combine(_folder, $"{name}.log"),
            JavaExecutable(), heap, "-XX:+UseSerialGC", "-Djava.awt.headless=true",
            $"-Dlog4j.configuration=file:{_folder}/log4j.properties", $"-Dkafka.logs.dir={_folder}",
            "-cp", Path.Combine(_home, "libs", "*"), mainClass, Path.Combine(_folder, properties),
        ])
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {name}");
        File.WriteAllText(Path.Combine(_folder, $"{name}.pid"), process.Id.ToString(CultureInfo.InvariantCulture));
        return process;
    }

    private static string JavaExecutable() =>
        Environment.GetEnvironmentVariable("JAVA_HOME") is { Length: > 0 } javaHome ? Path.Combine(javaHome, "bin", "java") : "java";

    /// <summary>
    /// A shell in its own session (a Ctrl-C or a kill of the test host's process group does not reach it) that
    /// waits for this process to end, then stops every process a pid file in the folder names — only if its
    /// command line still mentions the folder (pids are reused) — and removes the folder.
    /// </summary>
    private void StartWatchdog()
    {
        const string script = """
            exec </dev/null >/dev/null 2>&1
            owner=$1 folder=$2
            while kill -0 "$owner"; do sleep 1; done
            ours() { grep -qF "$folder" "/proc/$1/cmdline"; }
            for signal in TERM KILL; do
              for f in "$folder"/*.pid; do
                pid=$(cat "$f") && [ "$f" != "$folder/owner.pid" ] && ours "$pid" && kill -s "$signal" "$pid"
              done
              [ "$signal" = TERM ] && sleep 10
            done
            rm -rf "$folder"
            """;
        var info = new ProcessStartInfo("setsid") { UseShellExecute = false };
        foreach (var arg in (string[])["/bin/sh", "-c", script, "kafka-watchdog", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), _folder])
        {
            info.ArgumentList.Add(arg);
        }

        _watchdog = Process.Start(info) ?? throw new InvalidOperationException("cannot start the broker's watchdog");
    }

    /// <summary>
    /// Removes the folders of brokers whose test host is gone (and whose watchdog did not run), stopping their
    /// processes; every start does this first.
    /// </summary>
    public static void RemoveLeftovers()
    {
        foreach (var folder in Directory.EnumerateDirectories(Path.GetTempPath(), FolderPrefix + "*"))
        {
            try
            {
                RemoveIfLeftOver(folder);
            }
            catch (IOException)
            {
                // Its watchdog is removing it right now.
            }
        }
    }

    private static void RemoveIfLeftOver(string folder)
    {
        var owner = ReadPid(Path.Combine(folder, "owner.pid"));
        // No owner yet: another run may have created the folder a moment ago and not written its pid yet.
        if (owner is null ? DateTime.UtcNow - Directory.GetCreationTimeUtc(folder) < TimeSpan.FromMinutes(1) : IsRunning(owner.Value))
        {
            return;
        }

        foreach (var pidFile in Directory.EnumerateFiles(folder, "*.pid"))
        {
            if (ReadPid(pidFile) is { } pid && pid != owner && CommandLineMentions(pid, folder))
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                    process.WaitForExit(10_000);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                {
                    // Exited meanwhile.
                }
            }
        }

        Directory.Delete(folder, recursive: true);
    }

    private static int? ReadPid(string path)
    {
        try
        {
            return int.TryParse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static bool IsRunning(int pid) => Directory.Exists($"/proc/{pid}");

    private static bool CommandLineMentions(int pid, string text)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(text, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private async Task WaitForZooKeeperAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            EnsureRunning(_zooKeeper, "zookeeper");
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync("127.0.0.1", _zooKeeperPort, cancellationToken);
                return;
            }
            catch (System.Net.Sockets.SocketException) when (clock.Elapsed < s_startTimeout)
            {
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    private async Task WaitForMetadataAsync(CancellationToken cancellationToken)
    {
        // The client logs every refused connection while the broker starts: expected here, silenced.
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers })
            .SetLogHandler((_, _) => { })
            .Build();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            EnsureRunning(_broker, "broker");
            try
            {
                var metadata = await Task.Run(() => admin.GetMetadata(TimeSpan.FromSeconds(2)), cancellationToken);
                if (metadata.Brokers.Count > 0)
                {
                    return;
                }
            }
            catch (KafkaException)
            {
                // Not listening yet.
            }

            if (clock.Elapsed > s_startTimeout)
            {
                throw new TimeoutException($"the broker did not answer a metadata request within {s_startTimeout}:\n{LogTail("broker")}");
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    private void EnsureRunning(Process? process, string name)
    {
        if (process is null || process.HasExited)
        {
            throw new InvalidOperationException($"{name} exited during start-up:\n{LogTail(name)}");
        }
    }

    private void Stop(ref Process? process, string name, TimeSpan grace, int signal = SIGTERM)
    {
        if (process is null)
        {
            return;
        }

        if (!process.HasExited)
        {
            _ = kill(process.Id, signal);
            if (!process.WaitForExit(grace))
            {
                process.Kill();
                process.WaitForExit();
            }
        }

        // The pid is free for reuse now: the watchdog must not find it.
        File.Delete(Path.Combine(_folder, $"{name}.pid"));
        process.Dispose();
        process = null;
    }

    private const int SIGTERM = 15;
    private const int SIGKILL = 9;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
