using Microsoft.EntityFrameworkCore;

namespace SinkConnector.IntegrationTests;

/// <summary>A note per message (insert-shaped handlers).</summary>
public sealed record Note(long Id);

/// <summary>How many messages named an id (read-modify-write handlers: a redelivery would count twice).</summary>
public sealed class Counter
{
    public long Id { get; set; }

    public int Hits { get; set; }
}

/// <summary>The app's model in the in-process library-mode tests (<see cref="LibraryRun"/>).</summary>
public sealed class NotesContext(DbContextOptions<NotesContext> options) : DbContext(options)
{
    public DbSet<Counter> Counters => Set<Counter>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Note>(n =>
        {
            n.ToTable("notes");
            n.Property(x => x.Id).HasColumnName("id").ValueGeneratedNever();
        });
        modelBuilder.Entity<Counter>(c =>
        {
            c.ToTable("counters");
            c.Property(x => x.Id).HasColumnName("id").ValueGeneratedNever();
            c.Property(x => x.Hits).HasColumnName("hits");
        });
    }
}
