using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;

namespace SinkConnector.IntegrationTests;

public class NativeClientTests
{
    [Fact]
    public void Loaded_librdkafka_is_2_15_1_with_zstd_and_lz4()
    {
        Assert.Equal("2.15.1", Library.VersionString);

        var features = BuiltinFeatures().Split(',');
        Assert.Contains("zstd", features);
        Assert.Contains("lz4", features);
        Assert.Contains("ssl", features);
        Assert.Contains("sasl_scram", features);
        Assert.Contains("sasl_oauthbearer", features);
        Assert.Contains("snappy", features);
        Assert.Contains("gzip", features);
    }

    private static string BuiltinFeatures()
    {
        var conf = rd_kafka_conf_new();
        try
        {
            var size = (UIntPtr)512;
            var buffer = new byte[512];
            Assert.Equal(0, rd_kafka_conf_get(conf, "builtin.features", buffer, ref size));
            return Encoding.UTF8.GetString(buffer, 0, (int)size - 1);
        }
        finally
        {
            rd_kafka_conf_destroy(conf);
        }
    }

    [DllImport("librdkafka")]
    private static extern IntPtr rd_kafka_conf_new();

    [DllImport("librdkafka")]
    private static extern void rd_kafka_conf_destroy(IntPtr conf);

    [DllImport("librdkafka")]
    private static extern int rd_kafka_conf_get(IntPtr conf, string name, byte[] dest, ref UIntPtr size);
}
