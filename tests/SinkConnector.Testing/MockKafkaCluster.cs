using System.Runtime.InteropServices;
using System.Text;

namespace SinkConnector.Testing;

/// <summary>
/// librdkafka's mock cluster: real Kafka protocol over TCP on 127.0.0.1, run by threads of this process.
/// Other processes (the real <c>sink</c>) reach it through <see cref="BootstrapServers"/> for as long as
/// this object lives. Retention is small (about 5 MB per partition): keep test volumes under it.
/// </summary>
public sealed class MockKafkaCluster : IDisposable
{
    private readonly IntPtr _handle;
    private readonly IntPtr _cluster;
    private bool _disposed;

    public MockKafkaCluster(int brokers = 3)
    {
        var conf = Native.rd_kafka_conf_new();
        // This client never connects anywhere: silence its "no bootstrap.servers" notice.
        _ = Native.rd_kafka_conf_set(conf, "log_level", "3", new byte[256], 256);
        var error = new byte[512];
        // The mock cluster needs a client instance to own its threads; a producer that never produces.
        _handle = Native.rd_kafka_new(0, conf, error, (UIntPtr)error.Length);
        if (_handle == IntPtr.Zero)
        {
            throw new InvalidOperationException($"rd_kafka_new failed: {Encoding.UTF8.GetString(error).TrimEnd('\0')}");
        }

        _cluster = Native.rd_kafka_mock_cluster_new(_handle, brokers);
        if (_cluster == IntPtr.Zero)
        {
            Native.rd_kafka_destroy(_handle);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }

        BootstrapServers = Marshal.PtrToStringUTF8(Native.rd_kafka_mock_cluster_bootstraps(_cluster))!;
        // The broker default (3 s) only delays the first join of every test group.
        Native.rd_kafka_mock_group_initial_rebalance_delay_ms(_cluster, 0);
    }

    public string BootstrapServers { get; }

    public void CreateTopic(string topic, int partitions, int replicationFactor = 1) =>
        Check(Native.rd_kafka_mock_topic_create(_cluster, topic, partitions, replicationFactor), $"create topic {topic}");

    /// <summary>The next <paramref name="errors"/>.Length requests with this API key fail with these error codes.</summary>
    public void PushRequestErrors(KafkaApiKey apiKey, params int[] errors) =>
        Native.rd_kafka_mock_push_request_errors_array(_cluster, (short)apiKey, (UIntPtr)errors.Length, errors);

    public void SetBrokerDown(int brokerId) => Check(Native.rd_kafka_mock_broker_set_down(_cluster, brokerId), $"broker {brokerId} down");

    public void SetBrokerUp(int brokerId) => Check(Native.rd_kafka_mock_broker_set_up(_cluster, brokerId), $"broker {brokerId} up");

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Native.rd_kafka_mock_cluster_destroy(_cluster);
        Native.rd_kafka_destroy(_handle);
    }

    private static void Check(int error, string what)
    {
        if (error != 0)
        {
            throw new InvalidOperationException($"mock cluster: {what} failed with error {error}");
        }
    }

    private static class Native
    {
        private const string Lib = "librdkafka";

        [DllImport(Lib)]
        public static extern IntPtr rd_kafka_conf_new();

        [DllImport(Lib)]
        public static extern int rd_kafka_conf_set(IntPtr conf, string name, string value, byte[] errstr, UIntPtr errstrSize);

        [DllImport(Lib)]
        public static extern IntPtr rd_kafka_new(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);

        [DllImport(Lib)]
        public static extern void rd_kafka_destroy(IntPtr rk);

        [DllImport(Lib)]
        public static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);

        [DllImport(Lib)]
        public static extern void rd_kafka_mock_cluster_destroy(IntPtr cluster);

        [DllImport(Lib)]
        public static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr cluster);

        [DllImport(Lib)]
        public static extern void rd_kafka_mock_group_initial_rebalance_delay_ms(IntPtr cluster, int delayMs);

        [DllImport(Lib)]
        public static extern int rd_kafka_mock_topic_create(IntPtr cluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partitions, int replicationFactor);

        [DllImport(Lib)]
        public static extern void rd_kafka_mock_push_request_errors_array(IntPtr cluster, short apiKey, UIntPtr count, int[] errors);

        [DllImport(Lib)]
        public static extern int rd_kafka_mock_broker_set_down(IntPtr cluster, int brokerId);

        [DllImport(Lib)]
        public static extern int rd_kafka_mock_broker_set_up(IntPtr cluster, int brokerId);
    }
}

/// <summary>Kafka protocol API keys used in fault injection.</summary>
public enum KafkaApiKey : short
{
    Produce = 0,
    Fetch = 1,
    ListOffsets = 2,
    Metadata = 3,
    OffsetCommit = 8,
    OffsetFetch = 9,
    FindCoordinator = 10,
    JoinGroup = 11,
    Heartbeat = 12,
    LeaveGroup = 13,
    SyncGroup = 14,
}
