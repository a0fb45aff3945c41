using SinkConnector.Observability;

namespace SinkConnector.UnitTests.Observability;

/// <summary>The memory split the sink logs at Debug: read from this process's own /proc and GC figures.</summary>
public sealed class MemoryUseTests
{
    [Fact]
    public void The_split_of_this_process_adds_up_and_its_managed_heap_grows_with_what_it_holds()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/proc/self/status is Linux's");
        var before = MemoryUse.Read();
        // 64 MiB kept alive and touched: resident, anonymous and GC-committed memory all have to show it.
        var held = new byte[64][];
        for (var i = 0; i < held.Length; i++)
        {
            held[i] = new byte[1024 * 1024];
            Array.Fill(held[i], (byte)1);
        }

        GC.Collect();
        var after = MemoryUse.Read();
        GC.KeepAlive(held);

        Assert.True(after.ResidentBytes > 0 && after.PeakResidentBytes >= after.ResidentBytes);
        Assert.True(after.FileBackedBytes + after.AnonymousBytes <= after.ResidentBytes);
        Assert.Equal(Math.Max(0, after.AnonymousBytes - after.GcCommittedBytes), after.NativeBytes);
        Assert.True(after.GcHeapBytes - before.GcHeapBytes >= 60L * 1024 * 1024, $"GC heap {before.GcHeapBytes} -> {after.GcHeapBytes}");
        Assert.True(after.AnonymousBytes - before.AnonymousBytes >= 60L * 1024 * 1024, $"anonymous {before.AnonymousBytes} -> {after.AnonymousBytes}");
    }
}
