using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;

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
        // The mock API is not wrapped by Confluent.Kafka: call into the same library it loaded.
        LoadedLibrdkafka.ResolveImports();
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

    /// <summary>The next <paramref name="errors"/>.Length requests with this API key, to any broker, fail with these error codes.</summary>
    public void PushRequestErrors(KafkaApiKey apiKey, params ErrorCode[] errors) =>
        PushRequestErrors(apiKey, errors.Select(e => (int)e).ToArray());

    /// <summary>
    /// The next requests with this API key to broker <paramref name="brokerId"/> fail with these errors, each answered
    /// after its delay. <see cref="ErrorCode.Local_Transport"/> closes the connection instead of answering.
    /// Broker errors take precedence over cluster-wide ones (<see cref="PushRequestErrors(KafkaApiKey, int[])"/>).
    /// </summary>
    public void PushBrokerRequestErrors(int brokerId, KafkaApiKey apiKey, params (ErrorCode Error, int RttMs)[] errors)
    {
        // The C function is variadic; pushing one (error, rtt) pair per call keeps the P/Invoke signature fixed
        // (every argument in a register on x64 and arm64). Each call appends to the broker's stack in order.
        foreach (var (error, rttMs) in errors)
        {
            Check(Native.rd_kafka_mock_broker_push_request_error_rtts(_cluster, brokerId, (short)apiKey, 1, (int)error, rttMs),
                $"push {apiKey} error on broker {brokerId}");
        }
    }

    /// <summary>How many injected errors for this API key broker <paramref name="brokerId"/> has not yet returned.</summary>
    public int BrokerErrorStackCount(int brokerId, KafkaApiKey apiKey)
    {
        Check(Native.rd_kafka_mock_broker_error_stack_cnt(_cluster, brokerId, (short)apiKey, out var count), $"error stack of broker {brokerId}");
        return (int)count;
    }

    /// <summary>The next requests with this API key naming this partition get these partition-level errors, one per request.</summary>
    public void PushPartitionRequestErrors(string topic, int partition, KafkaApiKey apiKey, params ErrorCode[] errors)
    {
        foreach (var error in errors)
        {
            Check(Native.rd_kafka_mock_partition_push_request_errors(_cluster, topic, partition, (short)apiKey, 1, (int)error),
                $"push {apiKey} error on {topic} [{partition}]");
        }
    }

    /// <summary>Drops the cluster-wide errors still queued for this API key.</summary>
    public void ClearRequestErrors(KafkaApiKey apiKey) => Native.rd_kafka_mock_clear_request_errors(_cluster, (short)apiKey);

    /// <summary>Moves the partition's leadership (as a preferred-leader election or a broker failover would).</summary>
    public void SetPartitionLeader(string topic, int partition, int brokerId) =>
        Check(Native.rd_kafka_mock_partition_set_leader(_cluster, topic, partition, brokerId), $"leader of {topic} [{partition}]");

    /// <summary>Deletes the partition's messages before <paramref name="beforeOffset"/>, as retention would: the low watermark moves there.</summary>
    public void DeleteRecords(string topic, int partition, long beforeOffset) =>
        Check(Native.rd_kafka_mock_partition_delete_records(_cluster, topic, partition, beforeOffset), $"delete records of {topic} [{partition}]");

    /// <summary>Pins the group coordinator of <paramref name="groupId"/> (otherwise chosen by hashing the group id).</summary>
    public void SetGroupCoordinator(string groupId, int brokerId) =>
        Check(Native.rd_kafka_mock_coordinator_set(_cluster, "group", groupId, brokerId), $"coordinator of {groupId}");

    /// <summary>Delays every response of broker <paramref name="brokerId"/> by <paramref name="rttMs"/> (0 restores).</summary>
    public void SetBrokerRtt(int brokerId, int rttMs) =>
        Check(Native.rd_kafka_mock_broker_set_rtt(_cluster, brokerId, rttMs), $"rtt of broker {brokerId}");

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
        private const string Lib = LoadedLibrdkafka.ImportName;

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
        public static extern int rd_kafka_mock_broker_push_request_error_rtts(IntPtr cluster, int brokerId, short apiKey, UIntPtr count, int error, int rttMs);

        [DllImport(Lib)]
        public static extern int rd_kafka_mock_broker_error_stack_cnt(IntPtr cluster, int brokerId, short apiKey, out UIntPtr count);

        [DllImport(Lib)]
        public static extern int rd_kafka_mock_partition_push_request_errors(IntPtr cluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partition, short apiKey, UIntPtr count, int error);

        [DllImport(Lib)]
        public static extern void rd_kafka_mock_clear_request_errors(IntPtr cluster, short apiKey);

        [DllImport(Lib)]
        public static extern int rd_kafka_mock_partition_set_leader(IntPtr cluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partition, int brokerId);

        [DllImport(Lib)]
        public static extern int rd_kafka_mock_partition_delete_records(IntPtr cluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partition, long beforeOffset);

        [DllImport(Lib)]
        public static extern int rd_kafka_mock_coordinator_set(IntPtr cluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string keyType, [MarshalAs(UnmanagedType.LPUTF8Str)] string key, int brokerId);

        [DllImport(Lib)]
        public static extern int rd_kafka_mock_broker_set_rtt(IntPtr cluster, int brokerId, int rttMs);

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
