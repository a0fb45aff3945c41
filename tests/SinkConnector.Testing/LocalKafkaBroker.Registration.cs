using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace SinkConnector.Testing;

/// <summary>
/// A killed broker's registration (<c>/brokers/ids/0</c>, an ephemeral node of its ZooKeeper session) stays until
/// ZooKeeper expires that session; a broker started before then finds its id taken and exits ("node already
/// exists"). A start after <see cref="KillBroker"/> waits for it to go, asking ZooKeeper with its <c>dump</c>
/// four-letter command (enabled in zookeeper.properties), which lists the ephemeral nodes of every session.
/// </summary>
public sealed partial class LocalKafkaBroker
{
    /// <summary>The broker's ZooKeeper session timeout: how long a killed broker's registration outlives it.</summary>
    public const int ZooKeeperSessionTimeoutMs = 6_000;

    private const string Registration = "/brokers/ids/0";

    private async Task WaitForRegistrationExpiryAsync(CancellationToken cancellationToken)
    {
        // ZooKeeper checks expiry once per tick (3 s by default) after the timeout: a few ticks of margin.
        var timeout = TimeSpan.FromMilliseconds(ZooKeeperSessionTimeoutMs) + TimeSpan.FromSeconds(30);
        var clock = Stopwatch.StartNew();
        while ((await ZooKeeperCommandAsync("dump", cancellationToken)).Contains(Registration, StringComparison.Ordinal))
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"ZooKeeper still holds the killed broker's {Registration} after {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    private async Task<string> ZooKeeperCommandAsync(string command, CancellationToken cancellationToken)
    {
        EnsureRunning(_zooKeeper, "zookeeper");
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", _zooKeeperPort, cancellationToken);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command), cancellationToken);
        // ZooKeeper answers and closes the connection.
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var answer = await reader.ReadToEndAsync(cancellationToken);
        return answer.Contains("is not executed because it is not in the whitelist", StringComparison.Ordinal)
            ? throw new InvalidOperationException($"ZooKeeper refused '{command}': {answer}")
            : answer;
    }
}
