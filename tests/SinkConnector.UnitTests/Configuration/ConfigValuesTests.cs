using SinkConnector.Configuration.Loading;

namespace SinkConnector.UnitTests.Configuration;

public class ConfigValuesTests
{
    [Theory]
    [InlineData("200ms", 200)]
    [InlineData("30s", 30_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("0.1s", 100)]
    [InlineData("1m30s", 90_000)]
    [InlineData("0ms", 0)]
    public void Durations_parse_with_a_unit(string text, long milliseconds)
    {
        Assert.True(ConfigValues.TryParseDuration(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("200")]
    [InlineData("-5s")]
    [InlineData("5 s")]
    [InlineData("5sec")]
    [InlineData("1d")]
    [InlineData("s")]
    [InlineData(".5s")]
    [InlineData("99999999999999999999h")]
    public void Durations_without_a_known_unit_or_number_are_rejected(string text)
    {
        Assert.False(ConfigValues.TryParseDuration(text, out _));
    }

    [Theory]
    [InlineData("1000000", 1_000_000)]
    [InlineData("16MiB", 16L * 1024 * 1024)]
    [InlineData("512KiB", 512L * 1024)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("10MB", 10_000_000)]
    [InlineData("10KB", 10_000)]
    [InlineData("2GB", 2_000_000_000)]
    [InlineData("64B", 64)]
    [InlineData("16 MiB", 16L * 1024 * 1024)]
    public void Sizes_parse_decimal_and_binary_units(string text, long bytes)
    {
        Assert.True(ConfigValues.TryParseSize(text, out var size));
        Assert.Equal(bytes, size);
    }

    [Theory]
    [InlineData("")]
    [InlineData("16M")]
    [InlineData("1.5MiB")]
    [InlineData("-1")]
    [InlineData("MiB")]
    [InlineData("10 bananas")]
    [InlineData("99999999999999999GiB")]
    public void Sizes_with_unknown_units_or_overflow_are_rejected(string text)
    {
        Assert.False(ConfigValues.TryParseSize(text, out _));
    }

    [Theory]
    [InlineData("127.0.0.1:8080", true)]
    [InlineData("0.0.0.0:0", true)]
    [InlineData("[::1]:8080", true)]
    [InlineData("localhost:65535", true)]
    [InlineData("localhost", false)]
    [InlineData(":8080", false)]
    [InlineData("localhost:65536", false)]
    [InlineData("::1:8080", false)]
    public void Listen_addresses_are_host_and_port(string text, bool valid)
    {
        Assert.Equal(valid, ConfigValues.IsValidListenAddress(text));
    }
}
