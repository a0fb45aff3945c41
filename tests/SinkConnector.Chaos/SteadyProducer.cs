using Confluent.Kafka;

namespace SinkConnector.Chaos;

/// <summary>
/// Produces the planned sequence at a steady rate (message i is due i/rate seconds after the start), to explicit
/// partitions, with an idempotent producer: per partition, offsets follow the planned order and nothing is written
/// twice, whatever the injected Produce errors and broker outages do. The offset of every message is taken from
/// its delivery report; the expected state is computed from those, never from what the sink wrote.
/// </summary>
internal sealed class SteadyProducer(string bootstrapServers, IReadOnlyList<PlannedMessage> messages, int rate, Report report)
{
    private static readonly TimeSpan s_flushTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromSeconds(10);

    private readonly long[] _offsets = Enumerable.Repeat(-1L, messages.Count).ToArray();
    private int _failures;
    private int _acknowledged;
    private string? _firstFailure;

    /// <summary>Offset of each message by sequence number; -1 if it was never acknowledged.</summary>
    public IReadOnlyList<long> Offsets => _offsets;

    public int Failures => _failures;

    public string? FirstFailure => _firstFailure;

    public async Task RunAsync()
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            // Never give up on a message: a broker may be down for seconds, and a message that is never delivered
            // would make the expected state unknowable.
            MessageTimeoutMs = 0,
            // A request in flight to a mock broker that goes down is never answered; with the defaults (30 s ack
            // timeout, 60 s socket timeout) its partitions would stall for a minute after the broker is back, and
            // the soak would stop producing while the faults go on. Retrying sooner is safe: idempotence.
            RequestTimeoutMs = 5_000,
            SocketTimeoutMs = 10_000,
        })
            // The injected faults make librdkafka complain loudly; the sinks' reactions are what is on trial.
            .SetLogHandler((_, _) => { })
            .SetErrorHandler((_, error) =>
            {
                if (error.IsFatal)
                {
                    Fail($"fatal producer error: {error}");
                }
            })
            .Build();

        var lastProgress = TimeSpan.Zero;
        for (var i = 0; i < messages.Count; i++)
        {
            var ahead = TimeSpan.FromSeconds(i / (double)rate) - report.Elapsed;
            if (ahead > TimeSpan.FromMilliseconds(20))
            {
                await Task.Delay(ahead);
            }

            await ProduceAsync(producer, messages[i]);
            if (report.Elapsed - lastProgress >= s_progressInterval)
            {
                lastProgress = report.Elapsed;
                report.Line($"       producer: {i + 1} sent, {Volatile.Read(ref _acknowledged)} acknowledged");
            }
        }

        var deadline = report.Elapsed + s_flushTimeout;
        int left;
        while ((left = await Task.Run(() => producer.Flush(s_progressInterval))) > 0 && report.Elapsed < deadline)
        {
            report.Line($"       producer: all {messages.Count} sent, {left} waiting for acknowledgement");
        }

        if (left > 0)
        {
            Fail($"{left} messages still unacknowledged {s_flushTimeout.TotalSeconds:0} s after the last was produced");
        }
    }

    private async Task ProduceAsync(IProducer<byte[]?, byte[]?> producer, PlannedMessage planned)
    {
        var message = new Message<byte[]?, byte[]?>
        {
            Key = planned.Key,
            Value = planned.Value,
            // Identifies the record when the topics are read back (LogReader); the sink's mappings ignore it.
            Headers = [new Header(LogReader.SequenceHeader, LogReader.SequenceBytes(planned.Sequence))],
        };
        var partition = new TopicPartition(planned.Topic, planned.Partition);
        while (true)
        {
            try
            {
                producer.Produce(partition, message, delivery =>
                {
                    if (delivery.Error.IsError)
                    {
                        Fail($"message {planned.Sequence} to {partition} not delivered: {delivery.Error}");
                    }
                    else
                    {
                        _offsets[planned.Sequence] = delivery.Offset.Value;
                        Interlocked.Increment(ref _acknowledged);
                    }
                });
                return;
            }
            catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                // A long broker outage filled the local queue: wait for it to drain, keep the order.
                await Task.Delay(50);
            }
        }
    }

    private void Fail(string reason)
    {
        if (Interlocked.Increment(ref _failures) == 1)
        {
            _firstFailure = reason;
        }
    }
}
