using System.Net;
using System.Net.Sockets;

namespace SinkConnector.Testing;

/// <summary>Loopback ports for servers the tests start (Postgres, the sink's HTTP endpoints, a fake OTLP collector).</summary>
public static class LocalPorts
{
    /// <summary>A port nothing listens on right now: the OS picks it, the probe releases it at once.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
