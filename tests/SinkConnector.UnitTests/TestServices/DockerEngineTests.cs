using SinkConnector.Testing;

namespace SinkConnector.UnitTests.TestServices;

public sealed class DockerEngineTests
{
    [Fact]
    public void DOCKER_HOST_names_an_engine()
    {
        Assert.True(DockerEngine.IsReachable(name => name == "DOCKER_HOST" ? "tcp://docker:2375" : null, _ => false));
    }

    [Theory]
    [InlineData("/var/run/docker.sock")]
    [InlineData("/run/user/1000/docker.sock")]
    [InlineData("/home/dev/.docker/run/docker.sock")]
    [InlineData("/home/dev/.docker/desktop/docker.sock")]
    [InlineData("/home/dev/.colima/default/docker.sock")]
    public void A_known_engine_socket_names_an_engine(string socket)
    {
        var environment = new Dictionary<string, string> { ["HOME"] = "/home/dev", ["XDG_RUNTIME_DIR"] = "/run/user/1000" };

        Assert.True(DockerEngine.IsReachable(name => environment.GetValueOrDefault(name), path => path == socket));
    }

    [Fact]
    public void No_variable_and_no_socket_is_no_engine()
    {
        Assert.False(DockerEngine.IsReachable(name => name == "HOME" ? "/home/dev" : null, _ => false));
    }
}
