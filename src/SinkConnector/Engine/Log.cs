using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using SinkConnector.Observability;

namespace SinkConnector.Engine;

/// <summary>Source-generated log messages of the consumer loop; event ids 1xxx.</summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Information, "Subscribed to {Topics} as group {GroupId}, owner {Owner}")]
    public static partial void Subscribed(ILogger logger, string topics, string groupId, string owner);

    [LoggerMessage(1001, LogLevel.Information, "Claimed {Partition} at epoch {Epoch}, resuming at {Offset}")]
    public static partial void Claimed(ILogger logger, TopicPartition partition, long epoch, string offset);

    [LoggerMessage(1002, LogLevel.Information, "Revoked {Partitions}")]
    public static partial void Revoked(ILogger logger, string partitions);

    [LoggerMessage(1003, LogLevel.Warning, "Lost {Partitions}: their uncommitted messages are abandoned")]
    public static partial void Lost(ILogger logger, string partitions);

    [LoggerMessage(1004, LogLevel.Warning, "Fenced on {Partition}: another owner or an offset reset moved its epoch; the batch share was rolled back")]
    public static partial void Fenced(ILogger logger, TopicPartition partition);

    [LoggerMessage(1005, LogLevel.Warning, "{Partition} is claimed by another process; paused until the group reassigns it")]
    public static partial void PausedForeignClaim(ILogger logger, TopicPartition partition);

    [LoggerMessage(1006, LogLevel.Debug, "Committed batch: {Messages} messages, {Rows} rows, {Partitions} partitions in {ElapsedMs} ms")]
    public static partial void BatchCommitted(ILogger logger, int messages, int rows, int partitions, long elapsedMs);

    [LoggerMessage(1032, LogLevel.Debug, "Memory {Moment}: resident {ResidentMiB} MiB (peak {PeakMiB}): file-backed {FileMiB}, anonymous {AnonymousMiB} = GC committed {GcCommittedMiB} (heap {GcHeapMiB}) + native {NativeMiB} (librdkafka, Npgsql, runtime, JIT code)")]
    private static partial void Memory(ILogger logger, string moment, long residentMiB, long peakMiB, long fileMiB, long anonymousMiB, long gcCommittedMiB, long gcHeapMiB, long nativeMiB);

    /// <summary>The process's memory split (<see cref="MemoryUse"/>), read only when Debug is on.</summary>
    public static void Memory(ILogger logger, string moment)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            var m = MemoryUse.Read();
            Memory(logger, moment, MemoryUse.MiB(m.ResidentBytes), MemoryUse.MiB(m.PeakResidentBytes), MemoryUse.MiB(m.FileBackedBytes),
                MemoryUse.MiB(m.AnonymousBytes), MemoryUse.MiB(m.GcCommittedBytes), MemoryUse.MiB(m.GcHeapBytes), MemoryUse.MiB(m.NativeBytes));
        }
    }

    [LoggerMessage(1007, LogLevel.Debug, "Kafka offset commit failed (best effort, Postgres holds the truth): {Reason}")]
    public static partial void KafkaCommitFailed(ILogger logger, string reason);

    [LoggerMessage(1008, LogLevel.Warning, "Kafka error: {Reason}")]
    public static partial void KafkaError(ILogger logger, string reason);

    /// <summary>The error quotes the message's values: escaped, so an ESC sequence or line break in a message never reaches a terminal or log reader raw.</summary>
    public static void DeadLettered(ILogger logger, TopicPartition partition, long offset, string mapping, string error) =>
        DeadLetteredEscaped(logger, partition, offset, TerminalText.Escape(mapping), TerminalText.Escape(error));

    [LoggerMessage(1009, LogLevel.Warning, "Dead letter for {Partition}@{Offset} in mapping {Mapping}: {Error}", EventName = nameof(DeadLettered))]
    private static partial void DeadLetteredEscaped(ILogger logger, TopicPartition partition, long offset, string mapping, string error);

    [LoggerMessage(1010, LogLevel.Warning, "Batch write failed, retrying in {DelayMs} ms (attempt {Attempt}): {Reason}")]
    public static partial void WriteRetry(ILogger logger, long delayMs, int attempt, string reason);

    [LoggerMessage(1031, LogLevel.Warning, "Converting a batch failed, retrying in {DelayMs} ms (attempt {Attempt}): {Reason}")]
    public static partial void ConvertRetry(ILogger logger, long delayMs, int attempt, string reason);

    [LoggerMessage(1011, LogLevel.Information, "Stopping: committing the current batch and leaving the group (grace {GraceSeconds} s)")]
    public static partial void Stopping(ILogger logger, double graceSeconds);

    [LoggerMessage(1012, LogLevel.Information, "Stopped cleanly")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(1013, LogLevel.Warning, "Shutdown grace exceeded; the uncommitted batch is abandoned and will be re-consumed")]
    public static partial void GraceExceeded(ILogger logger);

    [LoggerMessage(1014, LogLevel.Warning, "Cannot claim {Partitions} now ({Reason}); they stay paused and the claim is retried")]
    public static partial void ClaimDeferred(ILogger logger, string partitions, string reason);

    [LoggerMessage(1015, LogLevel.Warning, "Claiming {Count} partition(s) failed, retrying in {DelayMs} ms: {Reason}")]
    public static partial void ClaimRetry(ILogger logger, int count, long delayMs, string reason);

    [LoggerMessage(1016, LogLevel.Warning, "Claim check failed, retrying later: {Reason}")]
    public static partial void ClaimCheckFailed(ILogger logger, string reason);

    [LoggerMessage(1017, LogLevel.Warning, "Previous batch not committed yet: pausing {Count} partition(s) and polling until Postgres catches up")]
    public static partial void Backpressure(ILogger logger, int count);

    [LoggerMessage(1018, LogLevel.Information, "Batch committed again: fetching resumed")]
    public static partial void BackpressureEnded(ILogger logger);

    [LoggerMessage(1019, LogLevel.Information, "Progress: {RowsPerSecond} rows/s, lag {Lag} messages, catch-up ETA {Eta}, {Partitions} partition(s)")]
    public static partial void Progress(ILogger logger, long rowsPerSecond, long lag, string eta, int partitions);

    [LoggerMessage(1020, LogLevel.Warning, "{Partition} is still assigned here {Seconds} s after a foreign claim fenced it: that claim was stale; claiming it again")]
    public static partial void StaleForeignClaim(ILogger logger, TopicPartition partition, long seconds);

    [LoggerMessage(1021, LogLevel.Warning, "{Partition}: first message after a seek is at {Offset}, not at the expected {Expected}; seeking again to tell a lost seek from a real gap")]
    public static partial void GapAfterSeek(ILogger logger, TopicPartition partition, long expected, long offset);

    [LoggerMessage(1022, LogLevel.Warning, "{Partition}: no message for {Seconds} s although the next offset {Expected} is below the log end {High} (-1001: unknown); seeking again")]
    public static partial void Stalled(ILogger logger, TopicPartition partition, long expected, long high, long seconds);

    [LoggerMessage(1023, LogLevel.Warning, "Stopped without leaving the group ({Reason}): everything is committed; the group reassigns the partitions after the session timeout")]
    public static partial void LeaveAbandoned(ILogger logger, string reason);

    [LoggerMessage(1024, LogLevel.Warning, "Kafka error repeated {Repeats} more time(s) within {Seconds} s: {Reason}")]
    public static partial void KafkaErrorRepeated(ILogger logger, int repeats, long seconds, string reason);

    [LoggerMessage(1025, LogLevel.Debug, "librdkafka {Facility}: {Message}")]
    public static partial void KafkaLog(ILogger logger, string facility, string message);

    [LoggerMessage(1026, LogLevel.Information, "Waiting for partition assignment from group {GroupId} ({Seconds} s so far): the group coordinator assigns partitions once the group has formed")]
    public static partial void WaitingForAssignment(ILogger logger, string groupId, long seconds);

    [LoggerMessage(1027, LogLevel.Error, "Cannot claim {Partitions}, and retrying will not help: {Reason}")]
    public static partial void ClaimFailed(ILogger logger, string partitions, string reason);

    [LoggerMessage(1028, LogLevel.Error, "Stopping after a failure: {Reason}")]
    public static partial void Failed(ILogger logger, string reason);

    [LoggerMessage(1029, LogLevel.Warning, "A batch write has been running for {Seconds} s ({Messages} messages, {Partitions} partition(s)): {Stage}; {Writes} write(s) in flight")]
    public static partial void WriteSlow(ILogger logger, long seconds, int messages, int partitions, string stage, int writes);

    [LoggerMessage(1030, LogLevel.Warning, "{Partition}: accepted messages not committed for {Seconds} s: committed up to {Committed}, accepted up to {Next}, log end {High} (-1001: unknown); open batch {BatchShare} of its {BatchMessages} message(s); {Writes} write(s) in flight; held back: {Backpressure}; {Owned} partition(s) owned, {Pending} claim(s) pending; {Action}")]
    public static partial void CommitStalled(ILogger logger, TopicPartition partition, long seconds, long committed, long next, long high,
        int batchShare, int batchMessages, int writes, bool backpressure, int owned, int pending, string action);

    [LoggerMessage(1036, LogLevel.Error, "A batch write has made no progress for {Seconds} s (twice statement_timeout: no statement waits that long in Postgres, so it is stuck in this process): {Stage}. Giving up on the {Writes} write(s) in flight and consuming {Partitions} again from the committed offsets under a new claim")]
    public static partial void WriteHung(ILogger logger, long seconds, string stage, int writes, string partitions);

    [LoggerMessage(1033, LogLevel.Warning, "Postgres backend of {ApplicationName}: pid {Pid}, state {State}, waiting for {WaitEventType}/{WaitEvent}, query started {QueryStart:O}, transaction started {TransactionStart:O}, blocked by pid(s) {BlockedBy}; query: {Query}")]
    public static partial void Backend(ILogger logger, string applicationName, int pid, string state, string waitEventType, string waitEvent,
        DateTime? queryStart, DateTime? transactionStart, string blockedBy, string query);

    [LoggerMessage(1034, LogLevel.Warning, "Postgres shows no backend of {ApplicationName} but the stall check's own: this sink has no connection to the database")]
    public static partial void NoBackends(ILogger logger, string applicationName);

    [LoggerMessage(1035, LogLevel.Warning, "Cannot read what the Postgres backends of {ApplicationName} are doing: {Reason}")]
    public static partial void BackendsUnknown(ILogger logger, string applicationName, string reason);
}
