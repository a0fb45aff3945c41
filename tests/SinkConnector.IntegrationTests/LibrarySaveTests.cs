using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SinkConnector.EntityFrameworkCore;

namespace SinkConnector.IntegrationTests;

/// <summary>How library mode saves a batch's changes (<see cref="BatchSave{TContext}"/>), in this process against the real servers.</summary>
public class LibrarySaveTests(TestServices services)
{
    [Fact]
    public async Task A_context_that_overrides_SaveChangesAsync_has_its_override_called_for_every_batch()
    {
        // Contexts without such an override are saved without accepting the changes (every other library-mode test).
        Assert.False(BatchSave<NotesContext>.CallsAppOverride);
        Assert.True(BatchSave<StampingNotesContext>.CallsAppOverride);

        var run = await LibraryRun.RunAsync<StampingNotesContext>(services, "lib_save_override", Notes.Json(1, 20), (builder, connectionString, topic) =>
        {
            builder.Services.AddDbContextFactory<StampingNotesContext>(o => o.UseNpgsql(connectionString));
            builder.Services.AddKafkaSink<StampingNotesContext>(builder.Configuration.GetSection("KafkaSink"))
                .AddHandler<Note, StampingNotesHandler>(topic);
        }, ("KafkaSink:MaxBatchMessages", "5"));

        Assert.True(run.ExitCode == 0, run.Logs.Text);
        Assert.Equal(20, await run.ScalarAsync("SELECT count(*) FROM notes"));
        Assert.Equal(20, await run.CommittedAsync());
        // Batches of 5 at most: at least 4 saves, each through the app's override.
        Assert.True(StampingNotesContext.Saves >= 4, $"{StampingNotesContext.Saves} saves went through the override");
    }

    private sealed class StampingNotesHandler : IMessageHandler<Note, StampingNotesContext>
    {
        public Task HandleAsync(Note message, MessageContext context, StampingNotesContext db, CancellationToken cancellationToken)
        {
            db.Add(message);
            return Task.CompletedTask;
        }
    }
}

/// <summary>An app's context with code of its own in <c>SaveChangesAsync(CancellationToken)</c>, as audit stamps are often written.</summary>
public sealed class StampingNotesContext(DbContextOptions<StampingNotesContext> options) : DbContext(options)
{
    private static int s_saves;

    public static int Saves => Volatile.Read(ref s_saves);

    public override Task<int> SaveChangesAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref s_saves);
        return base.SaveChangesAsync(cancellationToken);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.Entity<Note>(n =>
        {
            n.ToTable("notes");
            n.Property(x => x.Id).HasColumnName("id").ValueGeneratedNever();
        });
}
