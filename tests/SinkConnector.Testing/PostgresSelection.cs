using System.Diagnostics;

namespace SinkConnector.Testing;

/// <summary>Where the tests' PostgreSQL comes from, in the order <see cref="PostgresSelection.Choose"/> tries them.</summary>
public enum PostgresSource
{
    /// <summary>A running server named by <c>SINK_TEST_POSTGRES</c> (a connection string).</summary>
    External,

    /// <summary>A throwaway server from the machine's PostgreSQL binaries (initdb, pg_ctl).</summary>
    LocalBinaries,

    /// <summary>A throwaway server in a container (Testcontainers.PostgreSql), when a Docker engine is reachable.</summary>
    Container,
}

/// <param name="Location">The connection string (<see cref="PostgresSource.External"/>), the binaries' folder (<see cref="PostgresSource.LocalBinaries"/>) or the image (<see cref="PostgresSource.Container"/>).</param>
/// <param name="Reason">Why this source was taken, for the run's report.</param>
public sealed record PostgresChoice(PostgresSource Source, string Location, string Reason)
{
    /// <summary>Whether tests may stop and restart the server (outage tests): only one the tests start from binaries.</summary>
    public bool CanStopAndStart => Source == PostgresSource.LocalBinaries;
}

/// <summary>
/// The one place that decides which PostgreSQL the tests use: <c>SINK_TEST_POSTGRES</c> → local binaries (PATH,
/// <c>pg_config --bindir</c>, the Debian layout) → a container when a Docker engine is reachable. A pure function of
/// its lookups, so the order is unit-tested.
/// </summary>
public static class PostgresSelection
{
    public const string ExternalVariable = "SINK_TEST_POSTGRES";

    /// <summary>The image of the container branch: the server version the tests are written against.</summary>
    public const string ContainerImage = "postgres:15";

    /// <param name="environment">Environment variable lookup.</param>
    /// <param name="findBinaries">The folder of <c>initdb</c> and <c>pg_ctl</c>, or null (<see cref="FindBinaries()"/>).</param>
    /// <param name="dockerReachable">Whether a Docker engine is there (<see cref="DockerEngine.IsReachable()"/>).</param>
    public static PostgresChoice Choose(Func<string, string?> environment, Func<string?> findBinaries, Func<bool> dockerReachable)
    {
        if (environment(ExternalVariable) is { } external && !string.IsNullOrWhiteSpace(external))
        {
            return new PostgresChoice(PostgresSource.External, external.Trim(), $"{ExternalVariable} is set");
        }

        if (findBinaries() is { } folder)
        {
            return new PostgresChoice(PostgresSource.LocalBinaries, folder, $"PostgreSQL binaries in {folder}");
        }

        if (dockerReachable())
        {
            return new PostgresChoice(PostgresSource.Container, ContainerImage, "no PostgreSQL binaries, a Docker engine is reachable");
        }

        throw new InvalidOperationException(
            $"no PostgreSQL for the tests: set {ExternalVariable} to a connection string, install the PostgreSQL server " +
            "binaries (initdb and pg_ctl on PATH, or pg_config), or run a Docker engine");
    }

    /// <summary>The choice for this process's environment and file system (binaries are looked up once).</summary>
    public static PostgresChoice FromEnvironment() => Choose(Environment.GetEnvironmentVariable, () => s_binaries.Value, DockerEngine.IsReachable);

    private static readonly Lazy<string?> s_binaries = new(() =>
        FindBinaries(Environment.GetEnvironmentVariable, File.Exists, PgConfigBinDir, Directory.Exists) is { } folder ? RealFolder(folder) : null);

    // A PATH entry may hold links to the server binaries (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb):
    // the real folder also holds psql and the other client programs the tests run.
    private static string RealFolder(string folder)
    {
        var initdb = new FileInfo(Path.Combine(folder, "initdb"));
        return initdb.ResolveLinkTarget(returnFinalTarget: true) is { } target ? Path.GetDirectoryName(target.FullName)! : folder;
    }

    /// <summary>
    /// The folder holding <c>initdb</c> and <c>pg_ctl</c>: on PATH, else where <c>pg_config --bindir</c> says, else the
    /// newest <c>/usr/lib/postgresql/N/bin</c> (Debian and Ubuntu keep the server binaries off PATH).
    /// </summary>
    public static string? FindBinaries(Func<string, string?> environment, Func<string, bool> fileExists, Func<string?> pgConfigBinDir, Func<string, bool> directoryExists)
    {
        bool HasServer(string folder) => fileExists(Path.Combine(folder, "initdb")) && fileExists(Path.Combine(folder, "pg_ctl"));

        var onPath = (environment("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(HasServer);
        if (onPath is not null)
        {
            return onPath;
        }

        if (pgConfigBinDir() is { } binDir && HasServer(binDir))
        {
            return binDir;
        }

        const string debian = "/usr/lib/postgresql";
        return !directoryExists(debian) ? null : Enumerable.Range(10, 20).Reverse()
            .Select(version => $"{debian}/{version}/bin")
            .FirstOrDefault(HasServer);
    }

    private static string? PgConfigBinDir()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("pg_config", "--bindir") { RedirectStandardOutput = true, RedirectStandardError = true });
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no pg_config on PATH
        }
    }
}
