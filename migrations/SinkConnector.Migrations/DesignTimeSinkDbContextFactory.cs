using Microsoft.EntityFrameworkCore.Design;
using SinkConnector.Configuration;
using SinkConnector.Schema;

namespace SinkConnector.Migrations;

/// <summary>
/// Lets EF tooling (<c>dotnet ef migrations add</c>) build the context without the sink's configuration.
/// The connection string is only used by commands that talk to a database.
/// </summary>
public sealed class DesignTimeSinkDbContextFactory : IDesignTimeDbContextFactory<SinkDbContext>
{
    /// <summary>
    /// The schema of the design-time model. Scaffolded code names it as the migration's or snapshot's <c>Schema</c>
    /// (see <see cref="SchemaDesignTimeServices"/>), so a table, column or index must not be named like it.
    /// </summary>
    public const string Schema = "sink";

    public SinkDbContext CreateDbContext(string[] args) =>
        new SinkDatabase(new PostgresSettings
        {
            ConnectionString = Environment.GetEnvironmentVariable("SINK_POSTGRES") ?? "Host=localhost;Database=postgres",
            Schema = Schema,
        }).CreateContext();
}
