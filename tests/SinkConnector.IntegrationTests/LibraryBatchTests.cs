using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SinkConnector.EntityFrameworkCore;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Library mode's batch-level preload (<see cref="IPreloadingMessageHandler{TMessage, TContext}"/>) and tombstones
/// (<see cref="ITombstoneHandler{TContext}"/>), in this process against the real servers.
/// </summary>
public class LibraryBatchTests(TestServices services)
{
    [Fact]
    public async Task Preloaded_counters_count_every_message_once_and_a_failing_message_reruns_the_rest_after_a_fresh_preload()
    {
        // Ids repeat inside the batch; 7 fails, so the others are handled again after the tracker was cleared.
        long[] ids = [1, 2, 3, 1, 2, 7, 1, 3];
        var preloads = new ConcurrentQueue<long[]>();
        var run = await LibraryRun.RunAsync<NotesContext>(services, "lib_preload", [.. ids.Select(id => Notes.Json(id))], (builder, connectionString, topic) =>
        {
            builder.Services.AddDbContextFactory<NotesContext>(o => o.UseNpgsql(connectionString));
            builder.Services.AddSingleton(preloads);
            builder.Services.AddKafkaSink<NotesContext>(builder.Configuration.GetSection("KafkaSink"))
                .AddHandler<Note, CountingHandler>(topic);
        });

        Assert.Equal(0, run.ExitCode);
        var hits = await TestSqlCounters(run);
        Assert.Equal(new Dictionary<long, long> { [1] = 3, [2] = 2, [3] = 2 }, hits);
        Assert.Equal(1, await run.ScalarAsync("SELECT count(*) FROM sink.dead_letters WHERE error_kind = 'HandlerFailed' AND \"offset\" = 5"));
        Assert.Equal(ids.Length, await run.CommittedAsync());
        // Each pass over the messages began with a preload of exactly the messages it handled.
        Assert.Contains(preloads, p => p.Contains(7));
        Assert.Contains(preloads, p => !p.Contains(7) && p.Length > 0);
    }

    [Fact]
    public async Task Preload_that_throws_stops_the_consumer_and_nothing_commits()
    {
        var run = await LibraryRun.RunAsync<NotesContext>(services, "lib_preload_fails", Notes.Json(1, 5), (builder, connectionString, topic) =>
        {
            builder.Services.AddDbContextFactory<NotesContext>(o => o.UseNpgsql(connectionString));
            builder.Services.AddKafkaSink<NotesContext>(builder.Configuration.GetSection("KafkaSink"))
                .AddHandler<Note, FailingPreloadHandler>(topic);
        });

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(run.Logs.Lines, l => l.Contains("handler FailingPreloadHandler failed in PreloadAsync of 5 message(s)", StringComparison.Ordinal)
            && l.Contains("the preload is broken", StringComparison.Ordinal));
        Assert.Equal(0, await run.ScalarAsync("SELECT count(*) FROM counters"));
        Assert.Equal(0, await run.CommittedAsync());
    }

    [Fact]
    public async Task Tombstones_reach_a_tombstone_handler_which_deletes_by_key_in_the_same_batch_and_later_ones()
    {
        // Batches of up to 5: 2 is usually added and deleted in one batch, 4 deleted after it was committed.
        List<Confluent.Kafka.Message<byte[]?, byte[]?>> messages =
            [Notes.Json(1), Notes.Json(2), Notes.Tombstone(2), Notes.Json(3), Notes.Json(4), Notes.Json(5), Notes.Tombstone(4), Notes.Json(6)];
        var run = await LibraryRun.RunAsync<NotesContext>(services, "lib_tombstones", messages, (builder, connectionString, topic) =>
        {
            builder.Services.AddDbContextFactory<NotesContext>(o => o.UseNpgsql(connectionString));
            builder.Services.AddKafkaSink<NotesContext>(builder.Configuration.GetSection("KafkaSink"))
                .AddHandler<Note, NotesHandler>(topic);
        }, ("KafkaSink:MaxBatchMessages", "5"));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal([1, 3, 5, 6], await Ids(run));
        Assert.Equal(messages.Count, await run.CommittedAsync());
        Assert.Equal(0, await run.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));
    }

    [Fact]
    public async Task Tombstones_skip_a_handler_that_does_not_take_them_and_their_offsets_advance()
    {
        var messages = Notes.Json(1, 3);
        messages.AddRange([Notes.Tombstone(2), Notes.Json(4)]);
        var run = await LibraryRun.RunAsync<NotesContext>(services, "lib_no_tombstones", messages, (builder, connectionString, topic) =>
        {
            builder.Services.AddDbContextFactory<NotesContext>(o => o.UseNpgsql(connectionString));
            builder.Services.AddKafkaSink<NotesContext>(builder.Configuration.GetSection("KafkaSink"))
                .AddHandler<Note, AddingHandler>(topic);
        });

        Assert.Equal(0, run.ExitCode);
        Assert.Equal([1, 2, 3, 4], await Ids(run));
        Assert.Equal(messages.Count, await run.CommittedAsync());
    }

    private static async Task<List<long>> Ids(LibraryRun run) =>
        await SinkConnector.Testing.TestSql.QueryAsync(run.ConnectionString, "SELECT id FROM notes ORDER BY id", r => r.GetInt64(0));

    private static async Task<Dictionary<long, long>> TestSqlCounters(LibraryRun run) =>
        (await SinkConnector.Testing.TestSql.QueryAsync(run.ConnectionString, "SELECT id, hits FROM counters", r => (r.GetInt64(0), (long)r.GetInt32(1))))
        .ToDictionary(c => c.Item1, c => c.Item2);

    /// <summary>Read-modify-write on preloaded counters, never a query per message; note 7 fails.</summary>
    [Fact]
    public async Task A_due_batch_keeps_taking_messages_while_the_batch_before_it_is_still_being_written()
    {
        // MaxBatchLatency 1 ms: the first batch closes almost at once, and its preload then holds its write for a second.
        // The next batch is due 1 ms after its first message but cannot start before that write ends: meanwhile it takes
        // every message that arrives (all of them are in the topic already), instead of staying a 1 ms batch.
        var batches = new ConcurrentQueue<int>();
        var run = await LibraryRun.RunAsync<NotesContext>(services, "lib_fill_while_writing", Notes.Json(1, 3000), (builder, connectionString, topic) =>
        {
            builder.Services.AddDbContextFactory<NotesContext>(o => o.UseNpgsql(connectionString));
            builder.Services.AddSingleton(batches);
            builder.Services.AddKafkaSink<NotesContext>(builder.Configuration.GetSection("KafkaSink"))
                .AddHandler<Note, SlowFirstBatchHandler>(topic);
        }, ("KafkaSink:MaxBatchLatency", "00:00:00.001"), ("KafkaSink:MaxBatchMessages", "10000"));

        Assert.True(run.ExitCode == 0, run.Logs.Text);
        Assert.Equal(3000, await run.CommittedAsync());
        Assert.Equal(3000, await run.ScalarAsync("SELECT count(*) FROM notes"));
        var sizes = batches.ToArray();
        Assert.True(sizes.Length == 2 && sizes.Sum() == 3000, $"batch sizes: {string.Join(", ", sizes)}");
    }

    /// <summary>Adds a note per message; the first batch's preload takes a second (a slow write).</summary>
    private sealed class SlowFirstBatchHandler(ConcurrentQueue<int> batches) : IPreloadingMessageHandler<Note, NotesContext>
    {
        public async Task PreloadAsync(IReadOnlyList<Note> messages, NotesContext db, CancellationToken cancellationToken)
        {
            batches.Enqueue(messages.Count);
            if (batches.Count == 1)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }

        public Task HandleAsync(Note message, MessageContext context, NotesContext db, CancellationToken cancellationToken)
        {
            db.Add(message);
            return Task.CompletedTask;
        }
    }

    private sealed class CountingHandler(ConcurrentQueue<long[]> preloads) : IPreloadingMessageHandler<Note, NotesContext>
    {
        private Dictionary<long, Counter> _counters = [];

        public async Task PreloadAsync(IReadOnlyList<Note> messages, NotesContext db, CancellationToken cancellationToken)
        {
            var ids = messages.Select(m => m.Id).ToArray();
            preloads.Enqueue(ids);
            _counters = await db.Counters.Where(c => ids.Contains(c.Id)).ToDictionaryAsync(c => c.Id, cancellationToken);
        }

        public Task HandleAsync(Note message, MessageContext context, NotesContext db, CancellationToken cancellationToken)
        {
            if (message.Id == 7)
            {
                throw new InvalidOperationException("note 7 is refused");
            }

            if (!_counters.TryGetValue(message.Id, out var counter))
            {
                counter = new Counter { Id = message.Id };
                db.Counters.Add(counter);
                _counters.Add(message.Id, counter);
            }

            counter.Hits++;
            return Task.CompletedTask;
        }
    }

    private sealed class FailingPreloadHandler : IPreloadingMessageHandler<Note, NotesContext>
    {
        public Task PreloadAsync(IReadOnlyList<Note> messages, NotesContext db, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the preload is broken");

        public Task HandleAsync(Note message, MessageContext context, NotesContext db, CancellationToken cancellationToken)
        {
            db.Counters.Add(new Counter { Id = message.Id, Hits = 1 });
            return Task.CompletedTask;
        }
    }

    private class AddingHandler : IMessageHandler<Note, NotesContext>
    {
        public Task HandleAsync(Note message, MessageContext context, NotesContext db, CancellationToken cancellationToken)
        {
            db.Add(message);
            return Task.CompletedTask;
        }
    }

    /// <summary>Adds notes; a tombstone deletes the note of its key, also one added earlier in the same batch.</summary>
    private sealed class NotesHandler : AddingHandler, ITombstoneHandler<NotesContext>
    {
        public async Task HandleTombstoneAsync(MessageContext context, NotesContext db, CancellationToken cancellationToken)
        {
            Assert.True(context.IsTombstone);
            var id = long.Parse(context.KeyText!, CultureInfo.InvariantCulture);
            if (await db.Set<Note>().FindAsync([id], cancellationToken) is { } note)
            {
                db.Remove(note);
            }
        }
    }
}
