using System.Globalization;

namespace SinkConnector.Observability;

/// <summary>
/// What the process holds resident, split so that a memory target can be worked on: the managed heap (what the GC
/// has committed) against the rest of the anonymous memory (librdkafka's queues and buffers, Npgsql's and the
/// runtime's native allocations, JIT-compiled code) and the file-backed pages (the runtime's and the app's mapped
/// images). Linux only; elsewhere the resident figures are 0.
/// </summary>
public readonly record struct MemoryUse(long ResidentBytes, long PeakResidentBytes, long FileBackedBytes, long AnonymousBytes, long GcCommittedBytes, long GcHeapBytes)
{
    /// <summary>Anonymous memory the GC did not commit: native allocations, thread stacks, JIT code.</summary>
    public long NativeBytes => Math.Max(0, AnonymousBytes - GcCommittedBytes);

    /// <summary>Reads <c>/proc/self/status</c> and the GC's last figures; cheap enough for once per batch, not per message.</summary>
    public static MemoryUse Read()
    {
        var info = GC.GetGCMemoryInfo();
        long rss = 0, hwm = 0, file = 0, anonymous = 0;
        if (File.Exists("/proc/self/status"))
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (Kilobytes(line, "VmRSS:") is { } r)
                {
                    rss = r;
                }
                else if (Kilobytes(line, "VmHWM:") is { } h)
                {
                    hwm = h;
                }
                else if (Kilobytes(line, "RssFile:") is { } f)
                {
                    file = f;
                }
                else if (Kilobytes(line, "RssAnon:") is { } a)
                {
                    anonymous = a;
                }
            }
        }

        return new MemoryUse(rss, hwm, file, anonymous, info.TotalCommittedBytes, info.HeapSizeBytes);
    }

    /// <summary>"VmRSS:	  123456 kB" as bytes, when the line has that name.</summary>
    private static long? Kilobytes(string line, string name)
    {
        if (!line.StartsWith(name, StringComparison.Ordinal))
        {
            return null;
        }

        var number = line.AsSpan(name.Length).Trim();
        var space = number.IndexOf(' ');
        return long.TryParse(space >= 0 ? number[..space] : number, NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb * 1024 : null;
    }

    public static long MiB(long bytes) => bytes / (1024 * 1024);
}
