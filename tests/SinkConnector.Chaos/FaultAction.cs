using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.Chaos;

internal enum FaultKind
{
    SigKill,
    SigStop,
    SigTerm,
    PgRestart,
    PgStop,
    PgTerminateBackends,
    KafkaRequestErrors,
    BrokerDown,

    // Against a real broker (--kafka broker) instead of the two mock faults above.
    BrokerStop,
    BrokerKill,

    // Undo actions: not faults, but planned like them so a schedule is complete in itself.
    StartSink,
    SigCont,
    PgStart,
    BrokerUp,
    BrokerStart,
}

/// <summary>One step of the fault schedule, at a planned time on the run clock.</summary>
/// <param name="Target">Sink slot (0-2) or mock broker id (1-3); unused otherwise.</param>
internal sealed record FaultAction(TimeSpan At, FaultKind Kind, int Target, string Description, KafkaApiKey Api = KafkaApiKey.Fetch, ErrorCode[]? Errors = null)
{
    public bool IsFault => Kind is not (FaultKind.StartSink or FaultKind.SigCont or FaultKind.PgStart or FaultKind.BrokerUp or FaultKind.BrokerStart);
}

internal static class FaultKindLabels
{
    public static string Label(this FaultKind kind) => kind switch
    {
        FaultKind.SigKill => "SIGKILL",
        FaultKind.SigStop => "SIGSTOP zombie",
        FaultKind.SigTerm => "SIGTERM rolling restart",
        FaultKind.PgRestart => "pg_ctl restart",
        FaultKind.PgStop => "Postgres outage",
        FaultKind.PgTerminateBackends => "pg_terminate_backend",
        FaultKind.KafkaRequestErrors => "Kafka request errors",
        FaultKind.BrokerDown => "mock broker down",
        FaultKind.BrokerStop => "broker stop (SIGTERM)",
        FaultKind.BrokerKill => "broker SIGKILL",
        _ => kind.ToString(),
    };
}
