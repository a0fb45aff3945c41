using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.Chaos;

/// <summary>
/// The fault schedule: a pure function of seed and duration, drawn before the run starts, so a failing seed replays
/// the same faults in the same order at the same planned times (only the timing of the system under test differs).
/// A fault every 2-6 s after a warm-up. The plan keeps its own model of which sinks are up: SIGKILL and SIGSTOP only
/// hit a sink while another one runs, a rolling restart only starts with all three up, and Postgres and broker
/// outages do not overlap themselves, so at least one sink is alive and running most of the time.
/// <para>
/// The Kafka faults depend on the Kafka: the mock cluster takes request errors and broker down/up; a real broker
/// (one node) is stopped with SIGTERM (controlled shutdown) or killed with SIGKILL (unclean: log recovery on start),
/// then started again on the same port and data. The mock's schedule for a seed is the one it always was.
/// </para>
/// </summary>
internal static class FaultPlan
{
    public const int Sinks = 3;
    public const int Brokers = 3;

    /// <summary>The mock broker that coordinates the group; never taken down (see TryBrokerDown).</summary>
    public const int Coordinator = 1;

    public static readonly TimeSpan Warmup = TimeSpan.FromSeconds(6);

    private static readonly (FaultKind Kind, int Weight)[] s_mockWeights =
    [
        (FaultKind.SigKill, 18),
        (FaultKind.SigStop, 10),
        (FaultKind.SigTerm, 5),
        (FaultKind.PgRestart, 8),
        (FaultKind.PgStop, 5),
        (FaultKind.PgTerminateBackends, 12),
        (FaultKind.KafkaRequestErrors, 20),
        (FaultKind.BrokerDown, 10),
    ];

    // A broker outage takes 13-40 s from stop to answering again and they are a minute apart (TryBrokerRestart): one
    // or two per 60 s run, whatever the weight. Weighted so that a 60 s run nearly always gets one.
    private static readonly (FaultKind Kind, int Weight)[] s_brokerWeights =
    [
        (FaultKind.SigKill, 18),
        (FaultKind.SigStop, 10),
        (FaultKind.SigTerm, 5),
        (FaultKind.PgRestart, 8),
        (FaultKind.PgStop, 5),
        (FaultKind.PgTerminateBackends, 12),
        (FaultKind.BrokerStop, 12),
        (FaultKind.BrokerKill, 12),
    ];

    /// <summary>Error codes the mock answers per API: the retriable kinds a real cluster produces in failovers and rebalances.</summary>
    private static readonly (KafkaApiKey Api, ErrorCode[] Errors)[] s_requestErrors =
    [
        (KafkaApiKey.Fetch, [ErrorCode.NotLeaderForPartition, ErrorCode.UnknownTopicOrPart, ErrorCode.LeaderNotAvailable, ErrorCode.RequestTimedOut,
            ErrorCode.KafkaStorageError, ErrorCode.FencedLeaderEpoch, ErrorCode.UnknownLeaderEpoch,
            // Resets the fetch position to the earliest offset: the sink sees committed messages again and must drop them.
            ErrorCode.OffsetOutOfRange]),
        (KafkaApiKey.Heartbeat, [ErrorCode.GroupCoordinatorNotAvailable, ErrorCode.NotCoordinatorForGroup, ErrorCode.RebalanceInProgress,
            ErrorCode.UnknownMemberId, ErrorCode.IllegalGeneration]),
        (KafkaApiKey.JoinGroup, [ErrorCode.GroupLoadInProgress, ErrorCode.GroupCoordinatorNotAvailable, ErrorCode.NotCoordinatorForGroup]),
        (KafkaApiKey.SyncGroup, [ErrorCode.RebalanceInProgress, ErrorCode.GroupCoordinatorNotAvailable, ErrorCode.NotCoordinatorForGroup]),
        (KafkaApiKey.OffsetCommit, [ErrorCode.RequestTimedOut, ErrorCode.GroupCoordinatorNotAvailable, ErrorCode.NotCoordinatorForGroup,
            ErrorCode.RebalanceInProgress, ErrorCode.IllegalGeneration, ErrorCode.UnknownMemberId]),
        (KafkaApiKey.FindCoordinator, [ErrorCode.GroupCoordinatorNotAvailable, ErrorCode.GroupLoadInProgress]),
        (KafkaApiKey.Produce, [ErrorCode.NotLeaderForPartition, ErrorCode.LeaderNotAvailable, ErrorCode.RequestTimedOut]),
    ];

    /// <param name="realBroker">A broker from KAFKA_HOME (broker stop/kill) rather than the mock cluster (request errors, broker down).</param>
    public static List<FaultAction> Create(int seed, TimeSpan duration, bool realBroker)
    {
        var weights = realBroker ? s_brokerWeights : s_mockWeights;
        // Its own stream: the schedule does not change when the workload's use of randomness does.
        var random = new Random(unchecked((seed * 7_919) + 104_729));
        var planner = new Planner(random, duration.TotalSeconds);
        for (var t = Warmup.TotalSeconds; t < duration.TotalSeconds; t = Round(t + 2 + (random.NextDouble() * 4)))
        {
            var planned = false;
            for (var attempt = 0; attempt < 5 && !planned; attempt++)
            {
                planned = planner.TryPlan(Pick(random, weights), t);
            }

            // Against a real broker nothing else is always possible: the slot stays empty.
            if (!planned && !realBroker)
            {
                planner.TryPlan(FaultKind.KafkaRequestErrors, t);
            }
        }

        // Stable: an undo planned for the same moment as a fault keeps its place.
        return [.. planner.Actions.OrderBy(a => a.At)];
    }

    private static FaultKind Pick(Random random, (FaultKind Kind, int Weight)[] weights)
    {
        var roll = random.Next(weights.Sum(w => w.Weight));
        foreach (var (kind, weight) in weights)
        {
            if ((roll -= weight) < 0)
            {
                return kind;
            }
        }

        throw new InvalidOperationException("weights do not add up");
    }

    private static double Round(double seconds) => Math.Round(seconds, 1);

    /// <summary>Draws one fault at a time against its model of what is up.</summary>
    private sealed class Planner(Random random, double end)
    {
        // Until when each sink is busy with an earlier fault (down, frozen, restarting).
        private readonly double[] _sinkBusyUntil = new double[Sinks];
        private double _postgresBusyUntil;
        private double _brokersBusyUntil;

        public List<FaultAction> Actions { get; } = [];

        public bool TryPlan(FaultKind kind, double t) => kind switch
        {
            FaultKind.SigKill => TryKill(t),
            FaultKind.SigStop => TryZombie(t),
            FaultKind.SigTerm => TryRollingRestart(t),
            FaultKind.PgRestart or FaultKind.PgStop or FaultKind.PgTerminateBackends => TryPostgres(kind, t),
            FaultKind.KafkaRequestErrors => AddRequestErrors(t),
            FaultKind.BrokerDown => TryBrokerDown(t),
            FaultKind.BrokerStop or FaultKind.BrokerKill => TryBrokerRestart(kind, t),
            _ => false,
        };

        private bool TryKill(double t)
        {
            if (PickVictim(t) is not { } sink)
            {
                return false;
            }

            var down = Round(1 + (random.NextDouble() * 4));
            Add(t, FaultKind.SigKill, sink, $"SIGKILL sink-{sink}, restarted {down:0.0} s later");
            Add(t + down, FaultKind.StartSink, sink, $"start sink-{sink} again (after SIGKILL)");
            _sinkBusyUntil[sink] = t + down + 4;
            return true;
        }

        private bool TryZombie(double t)
        {
            if (PickVictim(t) is not { } sink)
            {
                return false;
            }

            // Longer than session.timeout.ms (6 s): the group expires the frozen member and hands its partitions to
            // the others; on SIGCONT it resumes with a batch it may still try to commit.
            var frozen = Round(8 + (random.NextDouble() * 3));
            Add(t, FaultKind.SigStop, sink, $"SIGSTOP sink-{sink} for {frozen:0.0} s (zombie: > session.timeout.ms 6 s)");
            Add(t + frozen, FaultKind.SigCont, sink, $"SIGCONT sink-{sink} (zombie wakes up)");
            _sinkBusyUntil[sink] = t + frozen + 2;
            return true;
        }

        private bool TryRollingRestart(double t)
        {
            // All three up, and the rollout (a SIGTERM every 7 s) done before the duration is.
            if (_sinkBusyUntil.Any(busy => busy > t) || t + (7 * (Sinks - 1)) > end)
            {
                return false;
            }

            var first = random.Next(Sinks);
            for (var step = 0; step < Sinks; step++)
            {
                var sink = (first + step) % Sinks;
                Add(t + (7 * step), FaultKind.SigTerm, sink, $"rolling restart {step + 1}/{Sinks}: SIGTERM sink-{sink} (must exit 0), then start it again");
            }

            // Every sink is reserved until the last one is back: no kill or freeze lands in the middle of a rollout.
            Array.Fill(_sinkBusyUntil, t + (7 * (Sinks - 1)) + 6);
            return true;
        }

        private bool TryPostgres(FaultKind kind, double t)
        {
            if (_postgresBusyUntil > t)
            {
                return false;
            }

            switch (kind)
            {
                case FaultKind.PgRestart:
                    Add(t, kind, 0, "pg_ctl restart -m fast (every connection dropped, server back in about a second)");
                    _postgresBusyUntil = t + 3;
                    break;
                case FaultKind.PgStop:
                    var down = Round(2 + (random.NextDouble() * 6));
                    Add(t, kind, 0, $"pg_ctl stop -m fast: Postgres down for {down:0.0} s");
                    Add(t + down, FaultKind.PgStart, 0, "pg_ctl start (Postgres back)");
                    _postgresBusyUntil = t + down + 3;
                    break;
                default:
                    Add(t, kind, 0, "pg_terminate_backend() on every sink connection");
                    _postgresBusyUntil = t + 1;
                    break;
            }

            return true;
        }

        private bool AddRequestErrors(double t)
        {
            var (api, codes) = s_requestErrors[random.Next(s_requestErrors.Length)];
            var errors = Enumerable.Range(0, 1 + random.Next(6)).Select(_ => codes[random.Next(codes.Length)]).ToArray();
            Add(t, FaultKind.KafkaRequestErrors, 0, $"mock cluster: next {errors.Length} {api} request(s) fail with {string.Join(", ", errors)}", api, errors);
            return true;
        }

        private bool TryBrokerDown(double t)
        {
            if (_brokersBusyUntil > t)
            {
                return false;
            }

            // Up to 9 s, a partition leader (2 or 3). Not the group coordinator (1, see ChaosRun): librdkafka's mock
            // aborts on its own assertions (rdkafka_mock_cgrp.c "!member->resp") when members rejoin a coordinator that
            // was down, killing the harness. Coordinator outages are covered by request errors here and by
            // KafkaFaultTests.Coordinator_down_past_the_session_timeout_costs_the_assignment_but_no_messages.
            var broker = 2 + random.Next(Brokers - 1);
            var down = Round(1 + (random.NextDouble() * 8));
            Add(t, FaultKind.BrokerDown, broker, $"mock broker {broker} down for {down:0.0} s");
            Add(t + down, FaultKind.BrokerUp, broker, $"mock broker {broker} up");
            _brokersBusyUntil = t + down + 2;
            return true;
        }

        private bool TryBrokerRestart(FaultKind kind, double t)
        {
            if (_brokersBusyUntil > t)
            {
                return false;
            }

            // The start is planned 2-8 s after the stop began; it waits for the stop to finish (a controlled shutdown
            // takes 5-9 s) and, after a kill, for ZooKeeper to expire the dead broker's registration (6-9 s).
            var down = Round(2 + (random.NextDouble() * 6));
            Add(t, kind, 0, kind == FaultKind.BrokerStop
                ? $"broker SIGTERM (controlled shutdown), started again {down:0.0} s later at the earliest"
                : $"broker SIGKILL (unclean: log recovery on start), started again {down:0.0} s later at the earliest");
            Add(t + down, FaultKind.BrokerStart, 0, "start the broker again (same port, same data)");
            // An outage lasts 13-40 s (stop or registration expiry, then start-up with log recovery). While it lasts
            // the sinks have nothing to write and Postgres faults hit idle sinks, so the broker stays up for a while
            // after each: at most one outage a minute (the first soaks, with 25 s here, had the broker down for more
            // than half of a 60 s run, and no write retries at all).
            _brokersBusyUntil = t + down + 45;
            return true;
        }

        /// <summary>A sink that is up, chosen only while another one is up too (so one keeps running).</summary>
        private int? PickVictim(double t)
        {
            var up = Enumerable.Range(0, Sinks).Where(s => _sinkBusyUntil[s] <= t).ToList();
            return up.Count < 2 ? null : up[random.Next(up.Count)];
        }

        private void Add(double at, FaultKind kind, int target, string description, KafkaApiKey api = KafkaApiKey.Fetch, ErrorCode[]? errors = null) =>
            Actions.Add(new FaultAction(TimeSpan.FromSeconds(Round(at)), kind, target, description, api, errors));
    }
}
