using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using SinkConnector.Configuration;

namespace SinkConnector.Schema;

/// <summary>Opens <see cref="SinkDbContext"/>s for one configured database and schema.</summary>
public sealed class SinkDatabase : IAsyncDisposable
{
    /// <summary>The assembly under <c>migrations/</c> that holds the connector's EF Core migrations.</summary>
    public const string MigrationsAssemblyName = "SinkConnector.Migrations";

    private readonly DbContextOptions<SinkDbContext> _options;

    public SinkDatabase(PostgresSettings settings)
    {
        Schema = settings.Schema;
        ConnectionString = WithSessionLimits(settings.ConnectionString);
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        ApplicationName = builder.ApplicationName!;
        StatementTimeout = SessionLimits.StatementTimeout(builder.Options);
        DataSource = new NpgsqlDataSourceBuilder(ConnectionString).Build();
        _options = new DbContextOptionsBuilder<SinkDbContext>()
            .UseNpgsql(DataSource, npgsql => npgsql
                .MigrationsAssembly(MigrationsAssemblyName)
                .MigrationsHistoryTable("__EFMigrationsHistory", settings.Schema))
            .ReplaceService<IModelCacheKeyFactory, SchemaModelCacheKeyFactory>()
            .ReplaceService<IMigrationsAssembly, SchemaMigrationsAssembly>()
            .Options;
    }

    public string Schema { get; }

    /// <summary>The pool every connection of this process comes from, EF's and the COPY writer's alike.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>The connection string of <see cref="DataSource"/> (with its password), for a connection outside the pool.</summary>
    internal string ConnectionString { get; }

    /// <summary>The <c>application_name</c> of this process's backends (<see cref="DefaultApplicationName"/> unless the connection string names one).</summary>
    public string ApplicationName { get; }

    /// <summary>Names the backends in <c>pg_stat_activity</c> when the connection string does not (Npgsql would leave it empty).</summary>
    public const string DefaultApplicationName = "sink";

    /// <summary>
    /// The sessions' <c>statement_timeout</c> (<see cref="SessionLimits.DefaultStatementTimeout"/> unless the
    /// connection string's options set another; zero: none): no statement of the sink waits longer in Postgres.
    /// </summary>
    public TimeSpan StatementTimeout { get; }

    public SinkDbContext CreateContext() => new(_options, Schema);

    /// <summary>
    /// A frozen owner (SIGSTOP, a VM pause) mid-transaction keeps its offset rows locked, and the next owner's
    /// claim would wait for it forever. Server-side limits end such transactions; options given in the
    /// connection string come later and win.
    /// </summary>
    private static string WithSessionLimits(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.Options = $"{SessionLimits.Options} {builder.Options}".TrimEnd();
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = DefaultApplicationName;
        }

        return builder.ConnectionString;
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
