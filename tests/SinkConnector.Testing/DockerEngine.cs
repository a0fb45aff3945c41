namespace SinkConnector.Testing;

/// <summary>
/// Whether a Docker engine is there for Testcontainers: <c>DOCKER_HOST</c> names one, or one of the sockets Docker
/// Engine, rootless Docker, Docker Desktop and Colima listen on exists. A look, not a connection: the choice of test
/// services stays a cheap, unit-tested function, and a socket that does not answer fails loudly at container start.
/// </summary>
public static class DockerEngine
{
    public const string HostVariable = "DOCKER_HOST";

    /// <param name="environment">Environment variable lookup.</param>
    /// <param name="exists">Whether a file (socket) exists.</param>
    public static bool IsReachable(Func<string, string?> environment, Func<string, bool> exists)
    {
        if (!string.IsNullOrWhiteSpace(environment(HostVariable)))
        {
            return true;
        }

        var home = environment("HOME");
        var runtime = environment("XDG_RUNTIME_DIR");
        string?[] sockets =
        [
            "/var/run/docker.sock",
            runtime is null ? null : Path.Combine(runtime, "docker.sock"),
            home is null ? null : Path.Combine(home, ".docker", "run", "docker.sock"),
            home is null ? null : Path.Combine(home, ".docker", "desktop", "docker.sock"),
            home is null ? null : Path.Combine(home, ".colima", "default", "docker.sock"),
        ];
        return sockets.Any(s => s is not null && exists(s));
    }

    /// <summary>For this process's environment and file system.</summary>
    public static bool IsReachable() => IsReachable(Environment.GetEnvironmentVariable, File.Exists);
}
