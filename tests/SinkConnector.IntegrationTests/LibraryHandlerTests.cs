using System.Text;
using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SinkConnector.EntityFrameworkCore;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Library mode in this process, with handlers that misbehave: what they must not do stops the consumer before
/// anything commits; what fails is dead-lettered or stops it, as the app chose.
/// </summary>
public class LibraryHandlerTests(TestServices services)
{
    [Theory]
    [InlineData(Behaviour.SaveChanges, "called SaveChanges")]
    [InlineData(Behaviour.Commit, "called CommitTransaction")]
    public async Task Handler_that_saves_or_commits_itself_stops_the_consumer_and_nothing_commits(Behaviour behaviour, string error)
    {
        var run = await RunAsync(behaviour, messages: 10);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(run.Logs.Lines, l => l.Contains(error, StringComparison.Ordinal) && l.Contains("handlers must not save or commit", StringComparison.Ordinal));
        Assert.Equal(0, await run.ScalarAsync("SELECT count(*) FROM notes"));
        Assert.Equal(0, await run.ScalarAsync("SELECT coalesce(sum(next_offset), 0) FROM sink.offsets"));
    }

    [Fact]
    public async Task With_on_error_fail_a_failing_handler_stops_the_consumer_before_its_message_commits()
    {
        var run = await RunAsync(Behaviour.FailOnSeven, messages: 10, ("KafkaSink:OnError", "Fail"), ("KafkaSink:MaxBatchMessages", "3"));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(run.Logs.Lines, l => l.Contains("handler MisbehavingHandler failed on", StringComparison.Ordinal) && l.Contains("note 7 is refused", StringComparison.Ordinal));
        // Batches of 3: notes 1-6 committed with their offsets; the batch holding 7 did not, nor anything after it.
        Assert.Equal(6, await run.ScalarAsync("SELECT count(*) FROM notes"));
        Assert.Equal(6, await run.ScalarAsync("SELECT coalesce(sum(next_offset), 0) FROM sink.offsets"));
        Assert.Equal(0, await run.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));
    }

    [Fact]
    public async Task Handler_that_overruns_its_timeout_becomes_a_timeout_dead_letter_and_the_rest_commits()
    {
        var run = await RunAsync(Behaviour.SlowOnSeven, messages: 10, ("KafkaSink:HandlerTimeout", "00:00:01"));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(9, await run.ScalarAsync("SELECT count(*) FROM notes WHERE id <> 7"));
        Assert.Equal(10, await run.ScalarAsync("SELECT coalesce(sum(next_offset), 0) FROM sink.offsets"));
        Assert.Equal(1, await run.ScalarAsync("SELECT count(*) FROM sink.dead_letters WHERE error_kind = 'Timeout' AND \"offset\" = 6"));
    }

    public enum Behaviour
    {
        SaveChanges,
        Commit,
        FailOnSeven,
        SlowOnSeven,
    }

    /// <summary>Produces notes 1..<paramref name="messages"/>, runs the consumer until it stops itself or has committed them all.</summary>
    private Task<LibraryRun> RunAsync(Behaviour behaviour, int messages, params (string Key, string Value)[] settings) =>
        LibraryRun.RunAsync<NotesContext>(services, $"lib_{behaviour}", Notes.Json(1, messages), (builder, connectionString, topic) =>
        {
            builder.Services.AddDbContextFactory<NotesContext>(o => o.UseNpgsql(connectionString));
            builder.Services.AddSingleton(new MisbehavingHandler(behaviour));
            builder.Services.AddKafkaSink<NotesContext>(builder.Configuration.GetSection("KafkaSink"))
                .AddHandler<Note, MisbehavingHandler>(topic);
        }, settings);

    private sealed class MisbehavingHandler(Behaviour behaviour) : IMessageHandler<Note, NotesContext>
    {
        public async Task HandleAsync(Note message, MessageContext context, NotesContext db, CancellationToken cancellationToken)
        {
            db.Add(message);
            switch (behaviour)
            {
                case Behaviour.SaveChanges or Behaviour.Commit:
                    try
                    {
                        await (behaviour == Behaviour.SaveChanges
                            ? db.SaveChangesAsync(cancellationToken)
                            : db.Database.CommitTransactionAsync(cancellationToken));
                    }
                    catch (InvalidOperationException)
                    {
                        // A handler that swallows the refusal does not get away with it.
                    }

                    break;
                case Behaviour.FailOnSeven when message.Id == 7:
                    throw new InvalidOperationException("note 7 is refused");
                case Behaviour.SlowOnSeven when message.Id == 7:
                    await Task.Delay(TimeSpan.FromMinutes(1), cancellationToken);
                    break;
            }
        }
    }
}
