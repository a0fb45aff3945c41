using SinkConnector.Testing;

namespace SinkConnector.UnitTests.TestServices;

public sealed class PostgresSelectionTests
{
    private static PostgresChoice Choose(Dictionary<string, string> environment, string? binaries = null, bool docker = false) =>
        PostgresSelection.Choose(name => environment.GetValueOrDefault(name), () => binaries, () => docker);

    [Fact]
    public void A_server_named_by_SINK_TEST_POSTGRES_comes_first()
    {
        var choice = Choose(new() { ["SINK_TEST_POSTGRES"] = " Host=db;Username=postgres " }, binaries: "/usr/bin", docker: true);

        Assert.Equal((PostgresSource.External, "Host=db;Username=postgres"), (choice.Source, choice.Location));
        Assert.False(choice.CanStopAndStart);
    }

    [Fact]
    public void Local_binaries_come_before_a_container()
    {
        var choice = Choose([], binaries: "/usr/lib/postgresql/15/bin", docker: true);

        Assert.Equal((PostgresSource.LocalBinaries, "/usr/lib/postgresql/15/bin"), (choice.Source, choice.Location));
        Assert.True(choice.CanStopAndStart);
    }

    [Fact]
    public void Without_binaries_a_reachable_docker_engine_selects_a_container()
    {
        var choice = Choose(new() { ["SINK_TEST_POSTGRES"] = "  " }, docker: true);

        Assert.Equal((PostgresSource.Container, PostgresSelection.ContainerImage), (choice.Source, choice.Location));
        Assert.False(choice.CanStopAndStart);
    }

    [Fact]
    public void Nothing_available_fails_naming_every_way_to_provide_a_server()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Choose([]));

        Assert.Contains("SINK_TEST_POSTGRES", error.Message, StringComparison.Ordinal);
        Assert.Contains("pg_config", error.Message, StringComparison.Ordinal);
        Assert.Contains("Docker", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Binaries_on_PATH_come_before_pg_config_and_the_Debian_layout()
    {
        var files = new HashSet<string> { "/opt/pg/bin/initdb", "/opt/pg/bin/pg_ctl", "/usr/lib/postgresql/15/bin/initdb", "/usr/lib/postgresql/15/bin/pg_ctl" };

        var found = PostgresSelection.FindBinaries(name => name == "PATH" ? "/usr/bin:/opt/pg/bin" : null, files.Contains, () => "/usr/lib/postgresql/15/bin", _ => true);

        Assert.Equal("/opt/pg/bin", found);
    }

    [Fact]
    public void A_folder_needs_both_initdb_and_pg_ctl()
    {
        var files = new HashSet<string> { "/usr/bin/pg_ctl", "/srv/pg/bin/initdb", "/srv/pg/bin/pg_ctl" };

        var found = PostgresSelection.FindBinaries(name => name == "PATH" ? "/usr/bin" : null, files.Contains, () => "/srv/pg/bin", _ => false);

        Assert.Equal("/srv/pg/bin", found);
    }

    [Fact]
    public void The_newest_Debian_server_version_is_taken_when_nothing_else_names_one()
    {
        var files = new HashSet<string> { "/usr/lib/postgresql/14/bin/initdb", "/usr/lib/postgresql/14/bin/pg_ctl", "/usr/lib/postgresql/16/bin/initdb", "/usr/lib/postgresql/16/bin/pg_ctl" };

        var found = PostgresSelection.FindBinaries(_ => null, files.Contains, () => null, dir => dir == "/usr/lib/postgresql");

        Assert.Equal("/usr/lib/postgresql/16/bin", found);
    }

    [Fact]
    public void No_binaries_anywhere_finds_none()
    {
        Assert.Null(PostgresSelection.FindBinaries(_ => "/usr/bin", _ => false, () => null, _ => false));
    }
}
