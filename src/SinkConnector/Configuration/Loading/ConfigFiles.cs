using System.Text;

namespace SinkConnector.Configuration.Loading;

/// <summary>
/// Reading the files of a configuration directory: only files that really live inside it, and only up to
/// <see cref="ConfigLimits.MaxFileBytes"/>.
/// </summary>
internal static class ConfigFiles
{
    // What Linux allows before ELOOP; a longer chain is a loop.
    private const int MaxLinkHops = 40;

    /// <summary>
    /// The path with every symbolic link resolved, like realpath(3). Links inside the directory stay allowed:
    /// Kubernetes mounts a ConfigMap as links into a <c>..data</c> folder of the same volume.
    /// </summary>
    public static string RealPath(string path)
    {
        var hops = 0;
        return RealPath(Path.GetFullPath(path), ref hops);
    }

    /// <summary>Whether <paramref name="file"/> resolves to a path inside <paramref name="realRoot"/> (itself resolved).</summary>
    public static bool IsInside(string file, string realRoot)
    {
        string real;
        try
        {
            real = RealPath(file);
        }
        catch (IOException)
        {
            return false;
        }

        return real.StartsWith(Path.TrimEndingDirectorySeparator(realRoot) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>Reads the file as UTF-8, or returns null after reporting why not.</summary>
    public static string? Read(string file, YamlValueReader reader)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read);
            // Read one byte past the limit instead of trusting the length: a device or FIFO reports 0.
            var buffer = new byte[ConfigLimits.MaxFileBytes + 1];
            var total = 0;
            int read;
            while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0)
            {
                total += read;
            }

            if (total > ConfigLimits.MaxFileBytes)
            {
                reader.Error("", $"file is larger than {ConfigLimits.MaxFileBytes / 1024} KiB; a configuration file is never that big");
                return null;
            }

            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetString(buffer, 0, total).TrimStart('\uFEFF');
        }
        catch (IOException e)
        {
            reader.Error("", $"cannot read file: {e.Message}");
            return null;
        }
        catch (UnauthorizedAccessException e)
        {
            reader.Error("", $"cannot read file: {e.Message}");
            return null;
        }
    }

    private static string RealPath(string fullPath, ref int hops)
    {
        var root = Path.GetPathRoot(fullPath) ?? "/";
        var current = root;
        foreach (var part in fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            if (new FileInfo(next).LinkTarget is { } target)
            {
                if (++hops > MaxLinkHops)
                {
                    throw new IOException($"too many levels of symbolic links: {fullPath}");
                }

                // current has no links left, so resolving '..' in the target textually is exact.
                next = RealPath(Path.GetFullPath(target, current), ref hops);
            }

            current = next;
        }

        return current;
    }
}
