using SinkConnector.Configuration;

namespace SinkConnector.UnitTests.Configuration;

internal static class ConfigAssert
{
    /// <summary>Asserts that one error has exactly this file and key and a reason containing <paramref name="reason"/>.</summary>
    public static ConfigError HasError(ConfigException exception, string file, string key, string reason)
    {
        var match = exception.Errors.FirstOrDefault(e => e.File == file && e.Key == key && e.Reason.Contains(reason, StringComparison.Ordinal));
        Assert.True(match is not null, $"expected an error '{file}: {key}: ...{reason}...' but got:\n{exception.Message}");
        return match;
    }

    /// <summary>Like <see cref="HasError"/>, and that there is no other error.</summary>
    public static ConfigError HasOnlyError(ConfigException exception, string file, string key, string reason)
    {
        var error = HasError(exception, file, key, reason);
        Assert.True(exception.Errors.Count == 1, $"expected one error but got:\n{exception.Message}");
        return error;
    }
}
