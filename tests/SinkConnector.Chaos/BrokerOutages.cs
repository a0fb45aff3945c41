using System.Diagnostics;
using SinkConnector.Testing;

namespace SinkConnector.Chaos;

/// <summary>
/// Stops, kills and starts the soak's real broker in the background, one operation after the other: a controlled
/// shutdown takes seconds and a start up to 30, and the rest of the schedule (sinks, Postgres) keeps its pace
/// meanwhile. A broker that cannot be stopped or started again is a harness problem: the run fails, saying so.
/// </summary>
internal sealed class BrokerOutages(LocalKafkaBroker broker, Report report)
{
    private Task _last = Task.CompletedTask;
    private Stopwatch? _down;

    public void Stop() => Enqueue("broker stopped (SIGTERM, controlled shutdown)", outageStarts: true, () =>
    {
        broker.StopBroker();
        return Task.CompletedTask;
    });

    public void Kill() => Enqueue("broker killed (SIGKILL)", outageStarts: true, () =>
    {
        broker.KillBroker();
        return Task.CompletedTask;
    });

    public void Start() => Enqueue("broker answering again", outageStarts: false, () => broker.StartBrokerAsync());

    /// <summary>Until the last operation is done (at the end of the schedule).</summary>
    public Task WhenDoneAsync() => _last;

    private void Enqueue(string done, bool outageStarts, Func<Task> operation)
    {
        var previous = _last;
        _last = Task.Run(async () =>
        {
            await previous;
            var clock = Stopwatch.StartNew();
            if (outageStarts)
            {
                _down = clock;
            }

            try
            {
                await operation();
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                report.Problem($"the harness could not restart the broker ({done}): {e.Message}\n{broker.LogTail("broker", 20)}");
                return;
            }

            var outage = !outageStarts && _down is { } down ? $"; down {down.Elapsed.TotalSeconds:0.0} s in all" : "";
            report.Line($"       {done} after {clock.Elapsed.TotalSeconds:0.0} s{outage}");
        });
    }
}
