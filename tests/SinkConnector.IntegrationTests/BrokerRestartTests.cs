using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>Runs alone: stopping the run's broker would fail every test running beside it.</summary>
[CollectionDefinition(nameof(BrokerRestartTests), DisableParallelization = true)]
public sealed class BrokerRestartsRunAlone;

/// <summary>The Kafka broker itself restarted under load. Only a broker the run started (<c>KAFKA_HOME</c>) can be restarted.</summary>
[Collection(nameof(BrokerRestartTests))]
public class BrokerRestartTests(TestServices services)
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Broker_restarted_twice_while_messages_stream_in_loses_and_duplicates_nothing()
    {
        var broker = services.Kafka.LocalBroker;
        Assert.SkipWhen(broker is null, "stops and starts the broker: needs the one the run starts from KAFKA_HOME");
        const int total = 20_000, partitions = 4, chunk = 100;
        await using var bed = await SinkTestBed.CreateAsync(services, "broker_restart", partitions);
        using var sink = bed.StartSink();

        // One idempotent producer for the whole stream: while the broker is down its messages queue up in the
        // producer and go out, in order and once, when the broker is back.
        using var producer = services.Kafka.CreateProducer();
        var failures = 0;
        var cancellation = TestContext.Current.CancellationToken;
        var stream = Task.Run(async () =>
        {
            for (var id = 0; id < total; id++)
            {
                producer.Produce(new Confluent.Kafka.TopicPartition(bed.Topic, id % partitions), SinkTestBed.Event(id), report =>
                {
                    if (report.Error.IsError)
                    {
                        Interlocked.Increment(ref failures);
                    }
                });
                if (id % chunk == chunk - 1)
                {
                    await Task.Delay(50, cancellation);
                }
            }
        }, cancellation);

        foreach (var committedBefore in (long[])[2_000, 8_000])
        {
            await bed.WaitForCommittedAsync(committedBefore, s_catchUp, () => sink.Output);
            Assert.False(stream.IsCompleted, "the restart must land while messages are still being produced");
            await Task.Run(broker!.StopBroker, cancellation);
            Assert.False(sink.HasExited, sink.Output);
            await Task.Delay(TimeSpan.FromSeconds(2), cancellation);
            await broker.StartBrokerAsync(cancellation);
        }

        await stream;
        await Task.Run(() => producer.Flush(TimeSpan.FromSeconds(120)), cancellation);
        Assert.True(failures == 0 && producer.Flush(TimeSpan.Zero) == 0, $"{failures} messages not acknowledged by Kafka");
        await bed.WaitForCommittedAsync(total, s_catchUp, () => sink.Output);
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, sink.Output);
        await bed.AssertExactlyOnceAsync(total);
    }
}
