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
    public Task Broker_restarted_twice_while_messages_stream_in_loses_and_duplicates_nothing() =>
        RestartTwiceUnderLoadAsync(broker => broker.StopBroker());

    // Unclean: no controlled shutdown, the next start recovers the logs and the producers' state from them, and it
    // has to wait for ZooKeeper to expire the dead broker's registration (the chaos soak's broker SIGKILL fault).
    [Fact]
    public Task Broker_killed_twice_while_messages_stream_in_loses_and_duplicates_nothing() =>
        RestartTwiceUnderLoadAsync(broker => broker.KillBroker());

    private async Task RestartTwiceUnderLoadAsync(Action<LocalKafkaBroker> stop)
    {
        var broker = services.Kafka.LocalBroker;
        Assert.SkipWhen(broker is null, "stops and starts the broker: needs the one the run starts from KAFKA_HOME");
        const int partitions = 4, chunk = 100;
        await using var bed = await SinkTestBed.CreateAsync(services, "broker_restart", partitions);
        using var sink = bed.StartSink();

        // One idempotent producer streams ~1,000 messages/s until both restarts are over: while the broker is down
        // its messages queue up in the producer and go out, in order and once, when the broker is back.
        using var producer = services.Kafka.CreateProducer();
        using var restartsDone = new CancellationTokenSource();
        var cancellation = TestContext.Current.CancellationToken;
        var produced = 0;
        var failures = 0;
        var stream = Task.Run(async () =>
        {
            while (!restartsDone.IsCancellationRequested)
            {
                for (var i = 0; i < chunk; i++, produced++)
                {
                    producer.Produce(new Confluent.Kafka.TopicPartition(bed.Topic, produced % partitions), SinkTestBed.Event(produced), report =>
                    {
                        if (report.Error.IsError)
                        {
                            Interlocked.Increment(ref failures);
                        }
                    });
                }

                await Task.Delay(100, cancellation);
            }
        }, cancellation);

        for (var restart = 0; restart < 2; restart++)
        {
            // The sink is consuming and committing (again) before each restart.
            await bed.WaitForCommittedAsync(await bed.CommittedAsync() + 2_000, s_catchUp, () => sink.Output);
            await Task.Run(() => stop(broker!), cancellation);
            Assert.False(sink.HasExited, sink.Output);
            await Task.Delay(TimeSpan.FromSeconds(2), cancellation);
            await broker.StartBrokerAsync(cancellation);
        }

        await restartsDone.CancelAsync();
        await stream;
        var total = produced;
        await Task.Run(() => producer.Flush(TimeSpan.FromSeconds(120)), cancellation);
        Assert.True(failures == 0 && producer.Flush(TimeSpan.Zero) == 0, $"{failures} messages not acknowledged by Kafka");
        await bed.WaitForCommittedAsync(total, s_catchUp, () => sink.Output);
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, sink.Output);
        await bed.AssertExactlyOnceAsync(total);
    }
}
