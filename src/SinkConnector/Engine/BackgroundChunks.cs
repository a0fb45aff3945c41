using SinkConnector.Failures;

namespace SinkConnector.Engine;

/// <summary>
/// The work a batch's content does on its messages a chunk at a time on the thread pool while the batch fills (the
/// sink's conversion, library mode's deserialization), collected in start order when the batch's write starts. When
/// the schema registry does not answer, <see cref="SchemaRegistryUnavailableException"/> passes to the caller, which
/// collects again after a backoff: the chunks collected stay collected, the failed ones are started again.
/// </summary>
public sealed class BackgroundChunks<TResult>
{
    // Chunks started, in consumption order, and how many of them CollectAsync has handed over.
    private readonly List<Chunk> _chunks = [];
    private int _collected;

    /// <summary>Starts a chunk's work now; <paramref name="start"/> is called again if that work fails on the registry.</summary>
    public void Start(Func<Task<TResult>> start) => _chunks.Add(new Chunk(start));

    /// <summary>Hands every chunk's result to <paramref name="take"/> in start order, waiting for those still running.</summary>
    public async Task CollectAsync(Action<TResult> take)
    {
        ArgumentNullException.ThrowIfNull(take);
        for (; _collected < _chunks.Count; _collected++)
        {
            TResult result;
            try
            {
                result = await _chunks[_collected].Result;
            }
            catch (SchemaRegistryUnavailableException)
            {
                foreach (var failed in _chunks.Skip(_collected))
                {
                    failed.RestartIfFailed();
                }

                throw;
            }

            take(result);
        }

        _chunks.Clear();
        _collected = 0;
    }

    /// <summary>A chunk's work (null: to be started again, after the schema registry was away).</summary>
    private sealed class Chunk(Func<Task<TResult>> start)
    {
        private Task<TResult>? _task = start();

        public Task<TResult> Result => _task ??= start();

        public void RestartIfFailed()
        {
            if (_task is { IsFaulted: true })
            {
                _task = null;
            }
        }
    }
}
