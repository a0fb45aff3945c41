using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;

namespace SinkConnector.Testing;

/// <summary>
/// The librdkafka that Confluent.Kafka loaded, for this assembly's own calls into it (the mock cluster API,
/// <c>builtin.features</c>). librdkafka.redist ships several Linux builds: Confluent.Kafka tries the main one
/// (<c>librdkafka.so</c>, linked against <c>libsasl2.so.3</c>, which Debian and Ubuntu name <c>libsasl2.so.2</c>)
/// and falls back to <c>centos8-librdkafka.so</c> (no GSSAPI). A plain <c>[DllImport("librdkafka")]</c> only knows
/// the first name and fails where the fallback was taken, so this assembly's imports are pointed at whichever file
/// Confluent.Kafka actually loaded: one library, one set of globals, in every process.
/// </summary>
public static class LoadedLibrdkafka
{
    internal const string ImportName = "librdkafka";

    private static readonly Lazy<string> s_path = new(LoadAndResolveImports);

    /// <summary>The file Confluent.Kafka loaded (loading it first if it has not yet).</summary>
    public static string Path => s_path.Value;

    /// <summary>librdkafka's <c>builtin.features</c> (<c>gzip</c>, <c>ssl</c>, <c>sasl_gssapi</c>, <c>zstd</c>, ...).</summary>
    public static IReadOnlyList<string> BuiltinFeatures()
    {
        _ = Path;
        var conf = rd_kafka_conf_new();
        try
        {
            var buffer = new byte[1024];
            var size = (UIntPtr)buffer.Length;
            if (rd_kafka_conf_get(conf, "builtin.features", buffer, ref size) != 0)
            {
                throw new InvalidOperationException("librdkafka has no builtin.features property");
            }

            // size counts the terminating NUL.
            return Encoding.UTF8.GetString(buffer, 0, (int)size - 1).Split(',');
        }
        finally
        {
            rd_kafka_conf_destroy(conf);
        }
    }

    /// <summary>Makes sure this assembly's imports go to Confluent.Kafka's library; call before the first one.</summary>
    internal static void ResolveImports() => _ = Path;

    private static string LoadAndResolveImports()
    {
        // Confluent.Kafka loads its native library on first use; its version is the cheapest use.
        _ = Library.Version;
        // The loader's own record of what is mapped: the file whose symbols Confluent.Kafka now calls.
        var loaded = File.ReadLines("/proc/self/maps")
            .Select(line => line.IndexOf('/', StringComparison.Ordinal) is var start and >= 0 ? line[start..] : "")
            .Where(file => System.IO.Path.GetFileName(file).EndsWith("librdkafka.so", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (loaded.Count != 1)
        {
            throw new InvalidOperationException($"expected one librdkafka mapped after Confluent.Kafka loaded it, found: {string.Join(", ", loaded)}");
        }

        var path = loaded[0];
        // dlopen of a loaded file returns the same handle: no second copy.
        NativeLibrary.SetDllImportResolver(typeof(LoadedLibrdkafka).Assembly,
            (name, _, _) => name == ImportName ? NativeLibrary.Load(path) : IntPtr.Zero);
        return path;
    }

    [DllImport(ImportName)]
    private static extern IntPtr rd_kafka_conf_new();

    [DllImport(ImportName)]
    private static extern void rd_kafka_conf_destroy(IntPtr conf);

    [DllImport(ImportName)]
    private static extern int rd_kafka_conf_get(IntPtr conf, [MarshalAs(UnmanagedType.LPUTF8Str)] string name, byte[] dest, ref UIntPtr size);
}

