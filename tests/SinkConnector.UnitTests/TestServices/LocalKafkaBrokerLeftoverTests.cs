using System.Diagnostics;
using System.Globalization;
using SinkConnector.Testing;

namespace SinkConnector.UnitTests.TestServices;

/// <summary>What a killed test run leaves behind (its watchdog killed too) is cleaned up by the next start.</summary>
public sealed class LocalKafkaBrokerLeftoverTests
{
    [Fact]
    public async Task A_folder_whose_owner_is_gone_is_removed_and_the_processes_it_names_are_killed()
    {
        var folder = Directory.CreateTempSubdirectory("sinkconnector-kafka-").FullName;
        using var leftover = StartNamingFolder(folder);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "owner.pid"), (await DeadPidAsync()).ToString(CultureInfo.InvariantCulture), TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(Path.Combine(folder, "broker.pid"), leftover.Id.ToString(CultureInfo.InvariantCulture), TestContext.Current.CancellationToken);

            LocalKafkaBroker.RemoveLeftovers();

            Assert.True(leftover.WaitForExit(10_000), "the leftover process still runs");
            Assert.False(Directory.Exists(folder));
        }
        finally
        {
            Cleanup(leftover, folder);
        }
    }

    [Fact]
    public async Task A_folder_whose_owner_runs_is_left_alone()
    {
        var folder = Directory.CreateTempSubdirectory("sinkconnector-kafka-").FullName;
        using var running = StartNamingFolder(folder);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "owner.pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture), TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(Path.Combine(folder, "broker.pid"), running.Id.ToString(CultureInfo.InvariantCulture), TestContext.Current.CancellationToken);

            LocalKafkaBroker.RemoveLeftovers();

            Assert.False(running.HasExited);
            Assert.True(Directory.Exists(folder));
        }
        finally
        {
            Cleanup(running, folder);
        }
    }

    [Fact]
    public async Task A_pid_reused_by_a_process_that_does_not_name_the_folder_is_not_killed()
    {
        var folder = Directory.CreateTempSubdirectory("sinkconnector-kafka-").FullName;
        using var stranger = StartNamingFolder("/nowhere");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "owner.pid"), (await DeadPidAsync()).ToString(CultureInfo.InvariantCulture), TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(Path.Combine(folder, "broker.pid"), stranger.Id.ToString(CultureInfo.InvariantCulture), TestContext.Current.CancellationToken);

            LocalKafkaBroker.RemoveLeftovers();

            Assert.False(stranger.HasExited);
            Assert.False(Directory.Exists(folder));
        }
        finally
        {
            Cleanup(stranger, folder);
        }
    }

    /// <summary>A process with <paramref name="folder"/> on its command line (as the broker's java has), until killed.</summary>
    private static Process StartNamingFolder(string folder) =>
        Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "while :; do sleep 1; done", folder])) ?? throw new InvalidOperationException("cannot start sh");

    private static async Task<int> DeadPidAsync()
    {
        using var process = Process.Start(new ProcessStartInfo("true")) ?? throw new InvalidOperationException("cannot start true");
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return process.Id;
    }

    private static void Cleanup(Process process, string folder)
    {
        if (!process.HasExited)
        {
            process.Kill();
        }

        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
