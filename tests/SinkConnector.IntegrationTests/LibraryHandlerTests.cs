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
        Assert.Contains(run.Logs, l => l.Contains(error, StringComparison.Ordinal) && l.Contains("handlers must not save or commit", StringComparison.Ordinal));
        Assert.Equal(0, await run.ScalarAsync("SELECT count(*) FROM notes"));
        Assert.Equal(0, await run.ScalarAsync("SELECT coalesce(sum(next_offset), 0) FROM sink.offsets"));
    }

    [Fact]
    public async Task With_on_error_fail_a_failing_handler_stops_the_consumer_before_its_message_commits()
    {
        var run = await RunAsync(Behaviour.FailOnSeven, messages: 10, ("KafkaSink:OnError", "Fail"), ("KafkaSink:MaxBatchMessages", "3"));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(run.Logs, l => l.Contains("handler MisbehavingHandler failed on", StringComparison.Ordinal) && l.Contains("note 7 is refused", StringComparison.Ordinal));
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
    private async Task<Run> RunAsync(Behaviour behaviour, int messages, params (string Key, string Value)[] settings)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var connectionString = await services.Postgres.CreateDatabaseAsync($"lib_{behaviour}".ToLowerInvariant(), cancellationToken);
        var topic = await services.Kafka.CreateTopicAsync("lib-handler", partitions: 1);
        await services.Kafka.ProduceAsync(topic, Enumerable.Range(1, messages).Select(i =>
            (0, new Message<byte[]?, byte[]?> { Value = Encoding.UTF8.GetBytes($$"""{"id":{{i}}}""") })));
        var logs = new CollectingLogger();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(logs);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["KafkaSink:BootstrapServers"] = services.Kafka.BootstrapServers,
            ["KafkaSink:GroupId"] = "it-" + topic,
        }.Concat(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))));
        builder.Services.AddDbContextFactory<NotesContext>(o => o.UseNpgsql(connectionString));
        builder.Services.AddSingleton(new MisbehavingHandler(behaviour));
        builder.Services.AddKafkaSink<NotesContext>(builder.Configuration.GetSection("KafkaSink"))
            .AddHandler<Note, MisbehavingHandler>(topic);
        using var host = builder.Build();
        await using (var db = await host.Services.GetRequiredService<IDbContextFactory<NotesContext>>().CreateDbContextAsync(cancellationToken))
        {
            await db.Database.EnsureCreatedAsync(cancellationToken);
        }

        var run = new Run(connectionString, logs.Lines);
        try
        {
            await host.StartAsync(cancellationToken);
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested
                && await CommittedAsync(run) < messages)
            {
                Assert.True(DateTime.UtcNow < deadline, string.Join('\n', logs.Lines));
                await Task.Delay(100, cancellationToken);
            }

            await host.StopAsync(cancellationToken);
            run.ExitCode = Environment.ExitCode;
        }
        finally
        {
            Environment.ExitCode = 0; // the test host's own exit code
        }

        return run;
    }

    private static async Task<long> CommittedAsync(Run run) =>
        await run.ScalarAsync("SELECT count(*) FROM pg_tables WHERE schemaname = 'sink' AND tablename = 'offsets'") == 0
            ? 0 : await run.ScalarAsync("SELECT coalesce(sum(next_offset), 0) FROM sink.offsets");

    private sealed class Run(string connectionString, IEnumerable<string> logs)
    {
        public IEnumerable<string> Logs { get; } = logs;

        public int ExitCode { get; set; }

        public async Task<long> ScalarAsync(string sql) =>
            (await TestSql.QueryAsync(connectionString, sql, r => Convert.ToInt64(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)))[0];
    }

    public sealed record Note(long Id);

    public sealed class NotesContext(DbContextOptions<NotesContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder modelBuilder) =>
            modelBuilder.Entity<Note>(n =>
            {
                n.ToTable("notes");
                n.Property(x => x.Id).HasColumnName("id").ValueGeneratedNever();
            });
    }

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
