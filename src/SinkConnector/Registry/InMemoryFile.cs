using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace SinkConnector.Registry;

/// <summary>
/// An anonymous file in memory (Linux <c>memfd_create</c>), opened by path as <c>/proc/self/fd/N</c>: for a library
/// that reads secrets only from a file path, without writing them to a disk. Gone once disposed.
/// </summary>
internal sealed class InMemoryFile : IDisposable
{
    private const uint CloseOnExec = 1; // MFD_CLOEXEC: a child process (none here) does not inherit it

    private readonly SafeFileHandle _handle;

    private InMemoryFile(SafeFileHandle handle)
    {
        _handle = handle;
        Path = $"/proc/self/fd/{handle.DangerousGetHandle()}";
    }

    public string Path { get; }

    public static InMemoryFile Create(string name, ReadOnlySpan<byte> content)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException(
                "a client certificate from PEM files needs Linux (an in-memory file); elsewhere convert it to PKCS#12 (client_keystore)");
        }

        var fd = MemfdCreate(name, CloseOnExec);
        if (fd < 0)
        {
            throw new IOException($"memfd_create failed (errno {Marshal.GetLastPInvokeError()})");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            RandomAccess.Write(handle, content, 0);
            return new InMemoryFile(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public void Dispose() => _handle.Dispose();

    // DllImport, not LibraryImport: its generated marshalling needs unsafe code, which this project does not allow.
    [DllImport("libc", EntryPoint = "memfd_create", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MemfdCreate([MarshalAs(UnmanagedType.LPUTF8Str)] string name, uint flags);
}
