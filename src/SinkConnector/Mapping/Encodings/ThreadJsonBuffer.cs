using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace SinkConnector.Mapping.Encodings;

/// <summary>
/// One JSON buffer and writer per conversion thread for the decoders that render a registry payload as the JSON the
/// converters read (Avro, Protobuf): a message allocates only the JSON it becomes.
/// </summary>
internal static class ThreadJsonBuffer
{
    private static readonly JsonWriterOptions s_writerOptions = new()
    {
        // Text stays as it is (the converters read escapes back, but there is no reason to make them).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private const int MaxKeptBuffer = 1 << 20;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? s_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? s_writer;

    /// <summary>The JSON <paramref name="write"/> renders from <paramref name="state"/>; its exceptions pass through (the next use resets the buffer).</summary>
    public static byte[] Render<TState>(TState state, Action<TState, Utf8JsonWriter> write)
    {
        var buffer = s_buffer ??= new ArrayBufferWriter<byte>(4096);
        var writer = s_writer ??= new Utf8JsonWriter(buffer, s_writerOptions);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        write(state, writer);
        writer.Flush();
        var json = buffer.WrittenSpan.ToArray();
        if (buffer.Capacity > MaxKeptBuffer)
        {
            // A rare huge message does not keep its buffer on the thread.
            s_buffer = null;
            s_writer = null;
        }

        return json;
    }
}
