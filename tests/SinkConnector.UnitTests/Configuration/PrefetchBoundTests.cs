using Confluent.Kafka;
using SinkConnector.Configuration;

namespace SinkConnector.UnitTests.Configuration;

/// <summary>librdkafka's prefetch (its consumer queue and fetch size) follows <c>batch.max_bytes</c> unless the user set it.</summary>
public sealed class PrefetchBoundTests : IDisposable
{
    private const long MiB = 1024 * 1024;

    private readonly TempConfigDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ConsumerConfig Build(long batchMaxBytes, params (string Key, string Value)[] properties) =>
        ConsumerSettings.Build(new ConnectorSettings
        {
            Name = "s",
            Kafka = new KafkaSettings
            {
                BootstrapServers = "b:9092",
                GroupId = "s",
                Properties = properties.ToDictionary(p => p.Key, p => p.Value),
            },
            Postgres = new PostgresSettings { ConnectionString = "Host=localhost" },
            Batch = new BatchSettings { MaxBytes = batchMaxBytes },
        });

    [Fact]
    public void The_default_batch_of_16_MiB_bounds_the_queue_and_each_fetch_to_a_quarter_of_it()
    {
        var config = Build(new BatchSettings().MaxBytes);

        Assert.Equal("4096", config.Get(PrefetchBound.QueuedMaxKbytes));
        Assert.Equal((4 * MiB).ToString(System.Globalization.CultureInfo.InvariantCulture), config.FetchMaxBytes?.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_full_queue_postpones_the_next_fetch_by_10_ms_not_librdkafkas_second()
    {
        Assert.Equal("10", Build(new BatchSettings().MaxBytes).Get(PrefetchBound.FetchQueueBackoffMs));
        Assert.Equal("250", Build(16 * MiB, (PrefetchBound.FetchQueueBackoffMs, "250")).Get(PrefetchBound.FetchQueueBackoffMs));
    }

    [Theory]
    [InlineData(4 * MiB, 1024, 1_048_576)]
    [InlineData(1 * MiB, 256, 1_000_000)] // fetches still take the largest message librdkafka accepts
    [InlineData(400 * MiB, 102_400, 52_428_800)] // fetches no larger than librdkafka's default
    [InlineData(100, 1, 1_000_000)] // a tiny batch: the smallest queue
    [InlineData(16L * 1024 * MiB, 2_097_151, 52_428_800)] // librdkafka's largest queue
    public void Queue_and_fetch_size_follow_batch_max_bytes_within_librdkafkas_ranges(long batchMaxBytes, int queuedKbytes, int fetchMaxBytes)
    {
        var config = Build(batchMaxBytes);

        Assert.Equal(queuedKbytes.ToString(System.Globalization.CultureInfo.InvariantCulture), config.Get(PrefetchBound.QueuedMaxKbytes));
        Assert.Equal(fetchMaxBytes, config.FetchMaxBytes);
    }

    [Fact]
    public void Values_the_user_set_in_kafka_properties_win()
    {
        var config = Build(16 * MiB, (PrefetchBound.QueuedMaxKbytes, "65536"), (PrefetchBound.FetchMaxBytes, "52428800"));

        Assert.Equal("65536", config.Get(PrefetchBound.QueuedMaxKbytes));
        Assert.Equal(52_428_800, config.FetchMaxBytes);
    }

    [Fact]
    public void A_larger_message_max_bytes_raises_the_fetch_size_to_it()
    {
        var config = Build(1 * MiB, ("message.max.bytes", "8388608"));

        Assert.Equal(8_388_608, config.FetchMaxBytes);
    }

    [Fact]
    public void With_receive_message_max_bytes_set_the_fetch_size_is_left_to_librdkafka()
    {
        var config = Build(16 * MiB, ("receive.message.max.bytes", "2000000"));

        Assert.Null(config.FetchMaxBytes);
        Assert.Equal("4096", config.Get(PrefetchBound.QueuedMaxKbytes));
    }

    [Theory]
    [InlineData("1MiB", "message.max.bytes: 8388608")]
    [InlineData("1MiB", "receive.message.max.bytes: 2000000")]
    [InlineData("100", "")]
    [InlineData("4GiB", "")]
    public void Librdkafka_accepts_the_derived_settings_with_the_users_own(string batchMaxBytes, string property)
    {
        _dir.Write("sink.yaml", $"""
            name: s
            kafka:
              bootstrap_servers: b:9092
              properties:
                client.id: sink-test
                {property}
            postgres:
              connection_string: Host=localhost;Database=app
            batch:
              max_bytes: {batchMaxBytes}
            """);

        var config = _dir.Load();

        Assert.NotNull(config.Connector);
    }
}
