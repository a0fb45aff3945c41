using System.Diagnostics;
using Npgsql;
using Testcontainers.PostgreSql;

namespace SinkConnector.Testing;

/// <summary>
/// The tests' PostgreSQL, chosen by <see cref="PostgresSelection"/>. Usually a throwaway server from the machine's
/// binaries: initdb into a temp dir, pg_ctl on a free 127.0.0.1 port (initdb refuses to run as root, so as root every
/// server command runs as the <c>postgres</c> user). Else a server named by <c>SINK_TEST_POSTGRES</c>, or a container.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string? _dataDir;
    private readonly string? _runAs;
    private readonly PostgreSqlContainer? _container;

    private PostgresServer(string connectionString, string? dataDir, string? runAs, int port, PostgreSqlContainer? container = null)
    {
        ConnectionString = connectionString;
        _dataDir = dataDir;
        _runAs = runAs;
        Port = port;
        _container = container;
    }

    /// <summary>The folder of the local binaries (the Debian layout when none were found, for error messages).</summary>
    private static string BinDir => PostgresSelection.FromEnvironment() is { Source: PostgresSource.LocalBinaries } choice
        ? choice.Location
        : "/usr/lib/postgresql/15/bin";

    /// <summary>Connection string to the server's <c>postgres</c> database as a superuser.</summary>
    public string ConnectionString { get; }

    public int Port { get; }

    /// <summary>Whether this server is not one the tests started from binaries, so it cannot be stopped and restarted.</summary>
    public bool IsExternal => _dataDir is null;

    /// <summary>Which server this is, for the run's report.</summary>
    public string Description => (_container, _dataDir) switch
    {
        ({ } container, _) => $"PostgreSQL in a container ({container.Image.FullName})",
        (_, null) => $"the PostgreSQL server at {new NpgsqlConnectionStringBuilder(ConnectionString).Host}:{Port} ({PostgresSelection.ExternalVariable})",
        _ => $"PostgreSQL from {BinDir}",
    };

    /// <summary>A program of the PostgreSQL binaries the tests run servers from (<c>psql</c>, <c>pg_ctl</c>...).</summary>
    public static string Binary(string name) => Path.Combine(BinDir, name);

    public static async Task<PostgresServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var choice = PostgresSelection.FromEnvironment();
        switch (choice.Source)
        {
            case PostgresSource.External:
                return new PostgresServer(choice.Location, null, null, new NpgsqlConnectionStringBuilder(choice.Location).Port);
            case PostgresSource.Container:
                return await StartContainerAsync(choice.Location, cancellationToken);
        }

        var dataDir = Directory.CreateTempSubdirectory("sinkconnector-pg-").FullName;
        var runAs = Environment.UserName == "root" ? "postgres" : null;
        if (runAs is not null)
        {
            await RunAsync("chown", ["-R", runAs, dataDir], null, cancellationToken);
        }

        var port = LocalPorts.Free();
        var server = new PostgresServer(
            $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true;Include Error Detail=true",
            dataDir, runAs, port);
        try
        {
            await server.PgAsync("initdb", ["-D", $"{dataDir}/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], cancellationToken);
            await server.PgCtlAsync(["start", "-w", "-t", "60", "-l", $"{dataDir}/server.log", "-o", ServerOptions(port, dataDir)], cancellationToken);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    // Testcontainers' thin branch, for laptops with Docker and no PostgreSQL binaries; these machines have no container
    // engine, so only the choice of it is tested here (PostgresSelectionTests).
    private static async Task<PostgresServer> StartContainerAsync(string image, CancellationToken cancellationToken)
    {
        // The builder's defaults are a superuser "postgres" and fsync, full_page_writes, synchronous_commit off.
        var container = new PostgreSqlBuilder(image).WithCommand("-c", "max_connections=200").Build();
        await container.StartAsync(cancellationToken);
        var connectionString = new NpgsqlConnectionStringBuilder(container.GetConnectionString()) { IncludeErrorDetail = true }.ConnectionString;
        return new PostgresServer(connectionString, null, null, container.GetMappedPublicPort(PostgreSqlBuilder.PostgreSqlPort), container);
    }

    // fsync off: a test server's data is thrown away, and fsync would dominate commit latency on a shared disk.
    private static string ServerOptions(int port, string dataDir) =>
        $"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={dataDir} -c fsync=off " +
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB";

    /// <summary>Creates a fresh database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var name = $"{prefix.ToLowerInvariant()}_{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 33)];
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Restarts the server (fast shutdown: open connections are terminated).</summary>
    public Task RestartAsync(CancellationToken cancellationToken = default) =>
        ControlAsync(["restart", "-w", "-t", "60", "-m", "fast", "-l", $"{_dataDir}/server.log", "-o", ServerOptions(Port, _dataDir!)], cancellationToken);

    /// <summary>Stops the server (fast shutdown) until <see cref="StartAgainAsync"/>: an outage.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) =>
        ControlAsync(["stop", "-w", "-t", "60", "-m", "fast"], cancellationToken);

    public Task StartAgainAsync(CancellationToken cancellationToken = default) =>
        ControlAsync(["start", "-w", "-t", "60", "-l", $"{_dataDir}/server.log", "-o", ServerOptions(Port, _dataDir!)], cancellationToken);

    private async Task ControlAsync(string[] args, CancellationToken cancellationToken)
    {
        if (IsExternal)
        {
            throw new InvalidOperationException($"cannot {args[0]} an external server");
        }

        await PgCtlAsync(args, cancellationToken);
        // The test's own pooled connections died with the server; the code under test has to cope, the test need not.
        NpgsqlConnection.ClearAllPools();
    }

    public async ValueTask DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }

        if (_dataDir is null)
        {
            return;
        }

        try
        {
            await PgCtlAsync(["stop", "-w", "-t", "30", "-m", "immediate"], CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            // Not running (start failed): the directory is removed all the same.
        }

        Directory.Delete(_dataDir, recursive: true);
    }

    /// <summary>Synchronous stop for process-exit handlers, where nothing can be awaited.</summary>
    public void StopNow()
    {
        if (_dataDir is null || !Directory.Exists(_dataDir))
        {
            return;
        }

        using var process = Process.Start(StartInfo("pg_ctl", ["stop", "-D", $"{_dataDir}/data", "-m", "immediate"], _runAs));
        process?.WaitForExit(10_000);
        Directory.Delete(_dataDir, recursive: true);
    }

    private Task PgCtlAsync(string[] args, CancellationToken cancellationToken) =>
        PgAsync("pg_ctl", [args[0], "-D", $"{_dataDir}/data", .. args[1..]], cancellationToken);

    private Task PgAsync(string tool, string[] args, CancellationToken cancellationToken) =>
        RunAsync(Path.Combine(BinDir, tool), args, _runAs, cancellationToken);

    private static ProcessStartInfo StartInfo(string file, string[] args, string? runAs)
    {
        var path = file.Contains('/', StringComparison.Ordinal) || file is "chown" ? file : Path.Combine(BinDir, file);
        var info = runAs is null ? new ProcessStartInfo(path) : new ProcessStartInfo("runuser", ["-u", runAs, "--", path]);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        return info;
    }

    private static async Task RunAsync(string file, string[] args, string? runAs, CancellationToken cancellationToken)
    {
        using var process = Process.Start(StartInfo(file, args, runAs)) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}{await stdout}");
        }
    }
}
