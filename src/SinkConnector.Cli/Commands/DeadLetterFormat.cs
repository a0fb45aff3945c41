using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using SinkConnector.DeadLetters;
using SinkConnector.Mapping;
using SinkConnector.Observability;
using SinkConnector.Operations;
using SinkConnector.Schema;

namespace SinkConnector.Cli.Commands;

/// <summary>How dead letters look on a terminal and in JSON. Pure functions, so they are tested without a database.</summary>
public static class DeadLetterFormat
{
    /// <summary>Binary key or value bytes up to this length are shown as hex, longer ones as base64.</summary>
    public const int MaxHexBytes = 64;

    private const int MinErrorWidth = 20;

    private const int MaxListedIds = 20;

    private static readonly JsonWriterOptions s_jsonOptions = new()
    {
        Indented = true,
        // Keys, values and messages are for people to read: keep non-ASCII text as it is.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        // Fixed, so that escaping the output line by line (see WriteJson) never meets a carriage return between tokens.
        NewLine = "\n",
    };

    /// <summary>What <c>--kind</c> accepts: the conversion error kinds, the kind of rows Postgres refused, and library mode's handler failures.</summary>
    public static IReadOnlyList<string> Kinds { get; } =
        [.. Enum.GetNames<ConversionErrorKind>(), DeadLetterBuilder.RejectedKind, DeadLetterBuilder.HandlerFailedKind, DeadLetterBuilder.HandlerTimeoutKind];

    /// <summary>The width to fit the table into: <c>COLUMNS</c>, else the terminal's, else 120 (output redirected).</summary>
    public static int ConsoleWidth()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), CultureInfo.InvariantCulture, out var columns) && columns > 0)
        {
            return columns;
        }

        try
        {
            if (!Console.IsOutputRedirected && Console.WindowWidth > 0)
            {
                return Console.WindowWidth;
            }
        }
        catch (IOException)
        {
        }

        return 120;
    }

    /// <summary>A header line and one line per dead letter; the error message gets what is left of <paramref name="width"/>.</summary>
    public static IReadOnlyList<string> Table(IReadOnlyList<DeadLetter> rows, int width)
    {
        ArgumentNullException.ThrowIfNull(rows);
        string[] headers = ["id", "mapping", "topic", "partition", "offset", "kind", "created_at"];
        var cells = rows.Select(d => new[]
        {
            d.Id.ToString(CultureInfo.InvariantCulture), OneLine(d.Mapping), OneLine(d.Topic), d.Partition.ToString(CultureInfo.InvariantCulture),
            d.Offset.ToString(CultureInfo.InvariantCulture), OneLine(d.ErrorKind), CliTime.Text(d.CreatedAt),
        }).ToList();
        var widths = headers.Select((h, i) => cells.Select(c => c[i].Length).Append(h.Length).Max()).ToArray();
        bool[] rightAligned = [true, false, false, true, true, false, false];
        string Line(string[] values, string error)
        {
            var parts = values.Select((v, i) => rightAligned[i] ? v.PadLeft(widths[i]) : v.PadRight(widths[i]));
            return string.Join("  ", parts.Append(error));
        }

        var errorWidth = Math.Max(MinErrorWidth, width - widths.Sum() - (2 * widths.Length));
        var lines = new List<string> { Line(headers, "error") };
        lines.AddRange(rows.Select((d, i) => Line(cells[i], Truncate(OneLine(d.ErrorMessage), errorWidth))));
        return lines;
    }

    /// <summary>At most <paramref name="max"/> characters, the last one an ellipsis when something was cut.</summary>
    public static string Truncate(string text, int max)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= max)
        {
            return text;
        }

        var cut = Math.Max(0, max - 1);
        // Never split a surrogate pair: half a character cannot be encoded.
        if (cut > 0 && char.IsHighSurrogate(text[cut - 1]))
        {
            cut--;
        }

        return text[..cut] + "…";
    }

    /// <summary>Every field of one dead letter, for <c>sink dlq show</c>.</summary>
    public static string Details(DeadLetter letter)
    {
        ArgumentNullException.ThrowIfNull(letter);
        var text = new StringBuilder();
        void Field(string name, object? value) => text.AppendLine(CultureInfo.InvariantCulture, $"{name + ":",-16} {value}");
        Field("id", letter.Id);
        Field("mapping", TerminalText.Escape(letter.Mapping));
        Field("topic", TerminalText.Escape(letter.Topic));
        Field("partition", letter.Partition);
        Field("offset", letter.Offset);
        Field("kafka_timestamp", (letter.KafkaTimestamp is { } kafkaTimestamp ? CliTime.Text(kafkaTimestamp) : "(none)"));
        Field("created_at", CliTime.Text(letter.CreatedAt));
        Field("error_kind", TerminalText.Escape(letter.ErrorKind));
        // Error messages quote the message's values, escape sequences included.
        Field("error_message", TerminalText.Escape(letter.ErrorMessage));
        var headers = Headers(letter.Headers);
        Field("headers", headers.Count == 0 ? "(none)" : headers.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var (name, value) in headers)
        {
            var (label, shown) = Describe(value);
            text.AppendLine(CultureInfo.InvariantCulture, $"  {OneLine(name)} ({label}): {OneLine(shown)}");
        }

        foreach (var (name, bytes) in new[] { ("key", letter.Key), ("value", letter.Value) })
        {
            var (label, shown) = Describe(bytes);
            text.AppendLine(CultureInfo.InvariantCulture, $"{name} ({label}):");
            foreach (var line in shown.Split('\n'))
            {
                // Pretty-printed JSON writes the characters its strings decode to, bidi overrides among them.
                text.Append("  ").AppendLine(TerminalText.Escape(line.TrimEnd('\r')));
            }
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>
    /// How to show bytes to a person: JSON objects and arrays pretty-printed, other UTF-8 text as it is, anything else
    /// (binary, or text with control characters) as hex when short, base64 when long. Returns a label saying which.
    /// </summary>
    public static (string Label, string Text) Describe(byte[]? bytes)
    {
        if (bytes is null)
        {
            return ("null", "");
        }

        if (IsText(bytes))
        {
            return PrettyJson(bytes) is { } json ? ($"JSON, {bytes.Length} bytes", json) : ($"text, {bytes.Length} bytes", Encoding.UTF8.GetString(bytes));
        }

        return bytes.Length <= MaxHexBytes
            ? ($"binary, {bytes.Length} bytes, hex", Convert.ToHexString(bytes).ToLowerInvariant())
            : ($"binary, {bytes.Length} bytes, base64", Convert.ToBase64String(bytes));
    }

    /// <summary>
    /// Valid UTF-8 without control characters other than tab and line breaks (nor any other character
    /// <see cref="TerminalText"/> escapes): safe to print on a terminal.
    /// </summary>
    public static bool IsText(byte[] bytes) =>
        Utf8.IsValid(bytes) && TerminalText.IsSafe(WithoutLayout(Encoding.UTF8.GetString(bytes)));

    /// <summary>A JSON array of dead letters with every field, for <c>sink dlq list --json</c>.</summary>
    public static string Json(IEnumerable<DeadLetter> letters)
    {
        ArgumentNullException.ThrowIfNull(letters);
        return WriteJson(json =>
        {
            json.WriteStartArray();
            foreach (var letter in letters)
            {
                WriteJson(json, letter);
            }

            json.WriteEndArray();
        });
    }

    /// <summary>One dead letter with every field, for <c>sink dlq show --json</c>.</summary>
    public static string Json(DeadLetter letter) => WriteJson(json => WriteJson(json, letter));

    /// <summary>"replayed N, still failing M (ids ...)", then the error of each still failing and the dead letters kept because their mapping is gone.</summary>
    public static IReadOnlyList<string> ReplaySummary(ReplayResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var skipped = result.Skipped.Count > 0 ? $" ({result.Skipped.Count} of them now skipped by their mapping)" : "";
        var failing = result.StillFailing.Count > 0 ? $" (ids {IdList(result.StillFailing.Select(f => f.Id).ToList())})" : "";
        var lines = new List<string> { $"replayed {result.Replayed.Count}{skipped}, still failing {result.StillFailing.Count}{failing}" };
        lines.AddRange(result.StillFailing.Take(MaxListedIds).Select(f => $"  {f.Id}: {f.Kind}: {OneLine(f.Message)}"));
        foreach (var mapping in result.Unmapped.GroupBy(d => d.Mapping))
        {
            lines.Add($"kept {mapping.Count()} of mapping '{OneLine(mapping.Key)}', which is not in the configuration (ids {IdList(mapping.Select(d => d.Id).ToList())})");
        }

        return lines;
    }

    /// <summary>Ids from <c>--ids 1,2,3</c> (also split over several tokens); null if any part is not a positive integer.</summary>
    public static long[]? ParseIds(IEnumerable<string> tokens)
    {
        var ids = new List<long>();
        foreach (var part in tokens.SelectMany(t => t.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1)
            {
                return null;
            }

            ids.Add(id);
        }

        return ids.Count > 0 ? [.. ids.Distinct()] : null;
    }

    private static string IdList(List<long> ids) =>
        string.Join(", ", ids.Take(MaxListedIds)) + (ids.Count > MaxListedIds ? $", … {ids.Count - MaxListedIds} more" : "");

    /// <summary>Names and messages may hold line breaks or escape sequences: one table row stays one line, and nothing reaches the terminal raw.</summary>
    private static string OneLine(string text) => TerminalText.Escape(WithoutLayout(text));

    /// <summary>Tabs and line breaks as spaces.</summary>
    private static string WithoutLayout(string text) => text.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');

    private static string? PrettyJson(byte[] bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
            {
                return null;
            }

            return WriteJson(document.RootElement.WriteTo);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static List<(string Name, byte[]? Value)> Headers(string? json)
    {
        var headers = new List<(string, byte[]?)>();
        foreach (var header in DeadLetterReplay.ToHeaders(json))
        {
            headers.Add((header.Key, header.GetValueBytes()));
        }

        return headers;
    }

    private static void WriteJson(Utf8JsonWriter json, DeadLetter letter)
    {
        json.WriteStartObject();
        json.WriteNumber("id", letter.Id);
        json.WriteString("mapping", letter.Mapping);
        json.WriteString("topic", letter.Topic);
        json.WriteNumber("partition", letter.Partition);
        json.WriteNumber("offset", letter.Offset);
        if (letter.KafkaTimestamp is { } timestamp)
        {
            json.WriteString("kafka_timestamp", timestamp);
        }
        else
        {
            json.WriteNull("kafka_timestamp");
        }

        WriteBytes(json, "key", letter.Key);
        WriteBytes(json, "value", letter.Value);
        json.WriteStartArray("headers");
        foreach (var (name, value) in Headers(letter.Headers))
        {
            json.WriteStartObject();
            json.WriteString("key", name);
            WriteBytes(json, "value", value);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("error_kind", letter.ErrorKind);
        json.WriteString("error_message", letter.ErrorMessage);
        json.WriteString("created_at", letter.CreatedAt);
        json.WriteEndObject();
    }

    /// <summary>Base64 (null stays null), and the text beside it as <c>NAME_text</c> when the bytes are valid UTF-8.</summary>
    private static void WriteBytes(Utf8JsonWriter json, string name, byte[]? bytes)
    {
        if (bytes is null)
        {
            json.WriteNull(name);
            return;
        }

        json.WriteBase64String(name, bytes);
        if (Utf8.IsValid(bytes))
        {
            json.WriteString(name + "_text", Encoding.UTF8.GetString(bytes));
        }
    }

    /// <summary>
    /// Indented JSON, non-ASCII text kept for people to read but every character <see cref="TerminalText"/> escapes
    /// as <c>\uXXXX</c> (the relaxed encoder writes bidi overrides and C1 controls raw). Escaping line by line is
    /// valid JSON: the writer puts line breaks only between tokens, and anything else it escapes is inside a string.
    /// </summary>
    private static string WriteJson(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, s_jsonOptions))
        {
            write(json);
        }

        return string.Join('\n', Encoding.UTF8.GetString(buffer.ToArray()).Split('\n').Select(TerminalText.Escape));
    }
}
