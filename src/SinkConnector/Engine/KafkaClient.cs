using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using SinkConnector.Configuration;
using SinkConnector.Observability;

namespace SinkConnector.Engine;

/// <summary>What the group's rebalances tell the loop (librdkafka calls them inside <see cref="KafkaClient.Poll"/>, on the polling thread).</summary>
internal interface IRebalanceListener
{
    /// <summary>Step 1: returns where each assigned partition starts fetching; the assignment takes effect when this returns.</summary>
    IReadOnlyList<TopicPartitionOffset> OnAssigned(IReadOnlyList<TopicPartition> partitions);

    /// <summary>Step 4: the partitions go to another member once this returns.</summary>
    void OnRevoked(IReadOnlyList<TopicPartition> partitions);

    /// <summary>Step 4: the group expelled this member; another may already own the partitions.</summary>
    void OnLost(IReadOnlyList<TopicPartition> partitions);
}

/// <summary>
/// The Kafka side of the protocol: the consumer built with the settings it relies on (<see cref="ConsumerSettings"/>),
/// polling, pause/resume/seek, the rebalance callbacks, and leaving the group. librdkafka's errors and warnings are
/// logged once per series (it repeats them for as long as their cause lasts), its debug output at Debug.
/// </summary>
internal sealed class KafkaClient : IDisposable
{
    private readonly IConsumer<byte[]?, byte[]?> _consumer;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    // librdkafka repeats client errors for as long as their cause lasts (a broker down: every few dozen ms).
    private readonly RepeatedMessages _errors = new(TimeSpan.FromSeconds(30));
    private Error? _fatal;
    private bool _closeAbandoned;

    /// <param name="subscribesByPattern">Some subscription is a regex: metadata is refreshed sooner, so new topics are found.</param>
    public KafkaClient(ConnectorSettings settings, IRebalanceListener listener, ILogger logger, TimeProvider time, bool subscribesByPattern = false)
    {
        ArgumentNullException.ThrowIfNull(listener);
        _logger = logger;
        _time = time;
        var config = ConsumerSettings.Build(settings, subscribesByPattern);
        SessionTimeout = TimeSpan.FromMilliseconds(config.SessionTimeoutMs ?? 45_000);
        _consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetPartitionsAssignedHandler((_, partitions) => listener.OnAssigned(partitions))
            .SetPartitionsRevokedHandler((_, partitions) => listener.OnRevoked([.. partitions.Select(p => p.TopicPartition)]))
            .SetPartitionsLostHandler((_, partitions) => listener.OnLost([.. partitions.Select(p => p.TopicPartition)]))
            .SetErrorHandler((_, error) => OnError(error))
            .SetLogHandler((_, message) => OnLog(message))
            .Build();
    }

    /// <summary>The group's session timeout: how long the coordinator waits for a silent member.</summary>
    public TimeSpan SessionTimeout { get; }

    public void Subscribe(IEnumerable<string> topics) => _consumer.Subscribe(topics);

    /// <summary>The next message, or null when none came within <paramref name="timeout"/> or a non-fatal error was logged. A fatal client error throws.</summary>
    public ConsumeResult<byte[]?, byte[]?>? Poll(TimeSpan timeout)
    {
        if (_fatal is not null)
        {
            throw new KafkaException(_fatal);
        }

        try
        {
            return _consumer.Consume(timeout);
        }
        catch (ConsumeException e) when (!e.Error.IsFatal)
        {
            LogError(e.Error.ToString());
            return null;
        }
    }

    public void Pause(IEnumerable<TopicPartition> partitions) => _consumer.Pause(partitions);

    public void Resume(IEnumerable<TopicPartition> partitions) => _consumer.Resume(partitions);

    /// <summary>Moves the fetch position; a partition that is not fetchable right now is logged and left to the stall check.</summary>
    public void Seek(TopicPartition partition, Offset offset)
    {
        try
        {
            _consumer.Seek(new TopicPartitionOffset(partition, offset));
        }
        catch (KafkaException e)
        {
            LogError($"seek {partition} to {Describe(offset)}: {e.Error}");
        }
    }

    /// <summary>Blocks until the group coordinator answers (<see cref="KafkaCommitter"/> runs it beside the loop).</summary>
    public void Commit(IReadOnlyList<TopicPartitionOffset> offsets) => _consumer.Commit(offsets);

    /// <summary>librdkafka's cached high watermark (no broker round trip); null while unknown.</summary>
    public long? HighWatermark(TopicPartition partition) =>
        _consumer.GetWatermarkOffsets(partition).High is var high && high == Offset.Unset ? null : high.Value;

    /// <summary>Logs how often each error repeated since it was first logged, once its window has passed.</summary>
    public void ReportRepeatedErrors(DateTime now)
    {
        foreach (var (text, repeats) in _errors.TakeSummaries(now))
        {
            Log.KafkaErrorRepeated(_logger, repeats, (long)_errors.Window.TotalSeconds, text);
        }
    }

    /// <summary>Closes the consumer (leaving the group) within <paramref name="timeout"/>; false if it did not.</summary>
    public async Task<bool> CloseAsync(TimeSpan timeout)
    {
        var leaving = Task.Run(_consumer.Close);
        await leaving.WaitAsync(timeout, _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!leaving.IsCompletedSuccessfully)
        {
            _closeAbandoned = true;
            Log.LeaveAbandoned(_logger, leaving.Exception?.InnerException?.Message ?? "timed out");
            return false;
        }

        return true;
    }

    /// <summary>An offset as a log line says it: a number, or where a partition without a stored offset starts.</summary>
    public static string Describe(Offset offset) =>
        offset == Offset.Beginning ? "the beginning of the partition"
        : offset == Offset.End ? "the end of the partition"
        : "offset " + offset.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private void OnError(Error error)
    {
        if (error.IsFatal)
        {
            _fatal = error;
        }

        LogError(error.ToString());
    }

    /// <summary>Warnings and errors as Kafka errors; the rest (librdkafka's <c>debug</c> output too) at Debug.</summary>
    private void OnLog(LogMessage message)
    {
        if (message.Level <= SyslogLevel.Warning)
        {
            LogError($"{message.Facility}: {message.Message}");
        }
        else
        {
            Log.KafkaLog(_logger, message.Facility, message.Message);
        }
    }

    /// <summary>The first of a series of equal errors; the repeats are counted and summarized (<see cref="ReportRepeatedErrors"/>).</summary>
    private void LogError(string reason)
    {
        if (_errors.Admit(reason, _time.GetUtcNow().UtcDateTime))
        {
            Log.KafkaError(_logger, reason);
        }
    }

    public void Dispose()
    {
        // After an abandoned close, disposing would wait for it; the process is about to exit anyway.
        if (!_closeAbandoned)
        {
            _consumer.Dispose();
        }
    }
}
