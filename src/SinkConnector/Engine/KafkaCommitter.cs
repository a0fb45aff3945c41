using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace SinkConnector.Engine;

/// <summary>
/// Step 5 of the protocol (docs/exactly-once.md): offsets go to Kafka only after Postgres committed them, best effort,
/// for lag tools; Postgres stays the truth. A commit blocks until the group coordinator answers (up to the session
/// timeout while it is away), so it runs beside the loop, one at a time; what becomes due meanwhile is coalesced (the
/// latest offset per partition) into the next one, which starts as soon as this one is done.
/// </summary>
/// <param name="commit">The blocking commit (the consumer's).</param>
internal sealed class KafkaCommitter(Action<IReadOnlyList<TopicPartitionOffset>> commit, ILogger logger)
{
    private readonly Dictionary<TopicPartition, long> _due = [];
    private Task _running = Task.CompletedTask;

    /// <summary>Offsets due and not sent yet.</summary>
    public int DueCount => _due.Count;

    /// <summary><paramref name="nextOffset"/> of <paramref name="partition"/> is committed in Postgres.</summary>
    public void Due(TopicPartition partition, long nextOffset) => _due[partition] = nextOffset;

    /// <summary>The partition went to another consumer: its offsets are the new owner's to commit.</summary>
    public void Forget(TopicPartition partition) => _due.Remove(partition);

    /// <summary>Sends what is due unless a commit is still running (then the loop calls again).</summary>
    public void Start()
    {
        if (_due.Count == 0 || !_running.IsCompleted)
        {
            return;
        }

        var offsets = _due.Select(d => new TopicPartitionOffset(d.Key, new Offset(d.Value))).ToList();
        _due.Clear();
        _running = Task.Run(() =>
        {
            try
            {
                commit(offsets);
            }
            catch (KafkaException e)
            {
                Log.KafkaCommitFailed(logger, e.Error.ToString());
            }
            catch (ObjectDisposedException)
            {
                // Shut down meanwhile: nothing to do, Postgres has the offsets.
            }
        });
    }

    /// <summary>
    /// At shutdown: the running commit and one more with what became due meanwhile, each within what is left of
    /// <paramref name="timeout"/>: a commit still waiting for the coordinator must not outlive the consumer it uses.
    /// </summary>
    public async Task FlushAsync(Func<TimeSpan> timeout)
    {
        ArgumentNullException.ThrowIfNull(timeout);
        for (var round = 0; round < 2; round++)
        {
            Start();
            await _running.WaitAsync(timeout()).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
