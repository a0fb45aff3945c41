using SinkConnector.Observability;

namespace SinkConnector.UnitTests.Observability;

/// <summary>The memory split the sink logs at Debug: read from this process's own /proc and GC figures.</summary>
public sealed class MemoryUseTests
{
    [Fact]
    public void The_split_of_this_process_adds_up_and_counts_what_its_managed_heap_holds()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/proc/self/status is Linux's");
        // 64 MiB kept alive and touched: resident, anonymous and GC-committed memory all have to hold it. Absolute
        // figures, not growth: other tests run in this process at the same time, and the GC may reuse pages it had.
        const long held = 64L * 1024 * 1024;
        var blocks = new byte[64][];
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i] = new byte[1024 * 1024];
            Array.Fill(blocks[i], (byte)1);
        }

        GC.Collect();
        var after = MemoryUse.Read();
        GC.KeepAlive(blocks);

        Assert.True(after.ResidentBytes > 0 && after.PeakResidentBytes >= after.ResidentBytes);
        Assert.True(after.FileBackedBytes + after.AnonymousBytes <= after.ResidentBytes);
        Assert.Equal(Math.Max(0, after.AnonymousBytes - after.GcCommittedBytes), after.NativeBytes);
        Assert.True(after.GcHeapBytes >= held, $"GC heap {after.GcHeapBytes}");
        Assert.True(after.AnonymousBytes >= held, $"anonymous {after.AnonymousBytes}");
    }
}
