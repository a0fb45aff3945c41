using System.Collections.Concurrent;
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

/// <summary>Library mode in this process: what a handler must not do stops the consumer before anything commits.</summary>
public class LibraryMisuseTests(TestServices services)
{
    [Theory]
    [InlineData(Misuse.SaveChanges, "called SaveChanges")]
    [InlineData(Misuse.Commit, "called CommitTransaction")]
    public async Task Handler_that_saves_or_commits_itself_stops_the_consumer_and_nothing_commits(Misuse misuse, string error)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var connectionString = await services.Postgres.CreateDatabaseAsync($"lib_misuse_{misuse}".ToLowerInvariant(), cancellationToken);
        var topic = await services.Kafka.CreateTopicAsync("lib-misuse", partitions: 1);
        await services.Kafka.ProduceAsync(topic, Enumerable.Range(1, 10).Select(i =>
            (0, new Message<byte[]?, byte[]?> { Value = Encoding.UTF8.GetBytes($$"""{"id":{{i}}}""") })));
        var logs = new LogCollector();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(logs);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["KafkaSink:BootstrapServers"] = services.Kafka.BootstrapServers,
            ["KafkaSink:GroupId"] = "it-" + topic,
        });
        builder.Services.AddDbContextFactory<NotesContext>(o => o.UseNpgsql(connectionString));
        builder.Services.AddSingleton(new MisbehavingHandler(misuse));
        builder.Services.AddKafkaSink<NotesContext>(builder.Configuration.GetSection("KafkaSink"))
            .AddHandler<Note, MisbehavingHandler>(topic);
        using var host = builder.Build();
        await using (var db = await host.Services.GetRequiredService<IDbContextFactory<NotesContext>>().CreateDbContextAsync(cancellationToken))
        {
            await db.Database.EnsureCreatedAsync(cancellationToken);
        }

        try
        {
            await host.RunAsync(cancellationToken).WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
            Assert.Equal(1, Environment.ExitCode);
        }
        finally
        {
            Environment.ExitCode = 0; // the test host's own exit code
        }

        Assert.Contains(logs.Lines, l => l.Contains(error, StringComparison.Ordinal) && l.Contains("handlers must not save or commit", StringComparison.Ordinal));
        Assert.Equal(0, await ScalarAsync(connectionString, "SELECT count(*) FROM notes"));
        Assert.Equal(0, await ScalarAsync(connectionString, "SELECT coalesce(sum(next_offset), 0) FROM sink.offsets"));
    }

    public enum Misuse
    {
        SaveChanges,
        Commit,
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql) =>
        (await TestSql.QueryAsync(connectionString, sql, r => Convert.ToInt64(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)))[0];

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

    private sealed class MisbehavingHandler(Misuse misuse) : IMessageHandler<Note, NotesContext>
    {
        public async Task HandleAsync(Note message, MessageContext context, NotesContext db, CancellationToken cancellationToken)
        {
            db.Add(message);
            try
            {
                if (misuse == Misuse.SaveChanges)
                {
                    await db.SaveChangesAsync(cancellationToken);
                }
                else
                {
                    await db.Database.CommitTransactionAsync(cancellationToken);
                }
            }
            catch (InvalidOperationException)
            {
                // A handler that swallows the refusal does not get away with it.
            }
        }
    }

    private sealed class LogCollector : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IEnumerable<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue(formatter(state, exception));

        public void Dispose()
        {
        }
    }
}
