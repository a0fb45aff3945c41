namespace SinkConnector.Testing;

/// <summary>The repository the tests were built from, for tests that read its files or run its scripts.</summary>
public static class RepositoryFolder
{
    /// <summary>The folder holding SinkConnector.sln above the test assembly.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SinkConnector.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no SinkConnector.sln above {AppContext.BaseDirectory}");
    }
}
