using SinkConnector.Testing;

namespace SinkConnector.Chaos;

/// <summary>
/// Plays the fault schedule on the run clock: each action at its planned time, or as soon as the previous one is
/// done. A SIGTERM (wait for a clean exit, start again) and a real broker's stop, kill and start run in the
/// background so the schedule keeps its pace. Every action is printed with the actual and the planned time.
/// </summary>
internal sealed class FaultExecutor(
    IReadOnlyList<FaultAction> plan, SinkFleet fleet, PostgresServer postgres, ChaosDatabase database, KafkaTestCluster kafka, Report report)
{
    private readonly List<Task> _background = [];
    private readonly BrokerOutages? _broker = kafka.LocalBroker is { } broker ? new BrokerOutages(broker, report) : null;

    // SIGTERM restarts in progress, by slot: another process fault on that slot waits for it, so that a SIGKILL
    // meant for the running sink never hits one still shutting down (its exit would count against the SIGTERM).
    private readonly Dictionary<int, Task> _terminating = [];
    private readonly Dictionary<FaultKind, int> _injected = [];

    /// <summary>How many faults of each kind were injected (undo actions not counted).</summary>
    public IReadOnlyDictionary<FaultKind, int> Injected => _injected;

    public async Task RunAsync()
    {
        foreach (var action in plan)
        {
            var wait = action.At - report.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            report.Line($"{(action.IsFault ? "FAULT" : "undo ")}  {action.Description}   (planned t+{action.At.TotalSeconds:0.0}s)");
            try
            {
                await ExecuteAsync(action);
                if (action.IsFault)
                {
                    _injected[action.Kind] = _injected.GetValueOrDefault(action.Kind) + 1;
                }
            }
            catch (Exception e) when (e is InvalidOperationException or Npgsql.NpgsqlException or TimeoutException)
            {
                // The harness could not inject this fault (pg_ctl failed, ...): the run proves less than it claims.
                report.Problem($"could not execute '{action.Description}': {e.Message}");
            }
        }

        await Task.WhenAll(_background);
        if (_broker is not null)
        {
            await _broker.WhenDoneAsync();
        }
    }

    private async Task ExecuteAsync(FaultAction action)
    {
        if (action.Kind is FaultKind.SigKill or FaultKind.StartSink or FaultKind.SigStop or FaultKind.SigCont or FaultKind.SigTerm
            && _terminating.Remove(action.Target, out var terminating) && !terminating.IsCompleted)
        {
            report.Line($"       waiting for sink-{action.Target}'s SIGTERM restart to finish first");
            await terminating;
        }

        switch (action.Kind)
        {
            case FaultKind.SigKill:
                await fleet.KillAsync(action.Target);
                break;
            case FaultKind.StartSink:
                fleet.Start(action.Target);
                break;
            case FaultKind.SigStop:
                fleet.Freeze(action.Target);
                break;
            case FaultKind.SigCont:
                fleet.Thaw(action.Target);
                break;
            case FaultKind.SigTerm:
                var restart = fleet.TerminateAsync(action.Target, restart: true);
                _background.Add(restart);
                _terminating[action.Target] = restart;
                break;
            case FaultKind.PgRestart:
                await postgres.RestartAsync();
                break;
            case FaultKind.PgStop:
                await postgres.StopAsync();
                break;
            case FaultKind.PgStart:
                await postgres.StartAgainAsync();
                break;
            case FaultKind.PgTerminateBackends:
                report.Line($"       {await database.TerminateOtherBackendsAsync()} backend(s) terminated");
                break;
            case FaultKind.KafkaRequestErrors:
                Mock().PushRequestErrors(action.Api, action.Errors!.Select(e => (int)e).ToArray());
                break;
            case FaultKind.BrokerDown:
                Mock().SetBrokerDown(action.Target);
                break;
            case FaultKind.BrokerUp:
                Mock().SetBrokerUp(action.Target);
                break;
            case FaultKind.BrokerStop:
                Broker().Stop();
                break;
            case FaultKind.BrokerKill:
                Broker().Kill();
                break;
            case FaultKind.BrokerStart:
                Broker().Start();
                break;
            default:
                throw new InvalidOperationException($"unknown fault {action.Kind}");
        }
    }

    private MockKafkaCluster Mock() => kafka.Mock ?? throw new InvalidOperationException("a mock cluster fault planned against a real broker");

    private BrokerOutages Broker() => _broker ?? throw new InvalidOperationException("a broker fault planned against the mock cluster");
}
