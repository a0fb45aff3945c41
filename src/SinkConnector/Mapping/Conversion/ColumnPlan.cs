using System.Text;
using System.Text.Json;
using SinkConnector.Configuration;
using SinkConnector.PgBinary;

namespace SinkConnector.Mapping.Conversion;

/// <summary>Where a column's value is read from, decided once per mapping.</summary>
internal enum ColumnAccess
{
    /// <summary>A path into the format's row image (for json, the whole value document); no path means the image itself.</summary>
    ValuePath,

    /// <summary><c>value</c> with format json: may be plain text or bytes, so it is not parsed unless the type needs it.</summary>
    WholeValue,

    /// <summary><c>value</c> with format raw: bytes, UTF-8 text, or validated JSON text.</summary>
    RawValue,
    WholeKey,
    KeyPath,
    SourcePath,
    Header,
    Topic,
    Partition,
    Offset,
    Timestamp,

    /// <summary>A constant: <see cref="ColumnPlan.ConstantValue"/>.</summary>
    Constant,

    /// <summary>now(): no value at conversion; the writer appends the transaction's time to the tuple.</summary>
    Now,

    /// <summary>concat(...): the text of <see cref="ColumnPlan.Parts"/> joined, converted like text input of the column's type.</summary>
    Concat,
}

/// <summary>How an unparsed key or value becomes a column value, by column type.</summary>
internal enum WholeMode
{
    /// <summary>bytea: the bytes themselves.</summary>
    Bytes,

    /// <summary>text, varchar: a JSON string's content, otherwise the UTF-8 text as is.</summary>
    Text,

    /// <summary>json, jsonb, arrays: must parse as JSON.</summary>
    Json,

    /// <summary>Numbers, booleans, dates, uuids...: JSON when it looks like a JSON string or container, else the trimmed text.</summary>
    Scalar,
}

/// <summary>One property name (pre-encoded as UTF-8 for allocation-free lookups) or array index.</summary>
internal readonly record struct PathStep(byte[]? Utf8Name, int Index);

/// <summary>Everything the per-message loop needs for one column, precomputed so it does no lookups or parsing of config.</summary>
internal sealed class ColumnPlan
{
    public ColumnPlan(ColumnMapping column, MessageFormat format)
    {
        Column = column;
        Converter = ValueConverters.Create(column.Type);
        Mode = column.Type switch
        {
            { IsArray: true } => WholeMode.Json,
            { Scalar: ScalarType.Bytea } => WholeMode.Bytes,
            { Scalar: ScalarType.Text or ScalarType.Varchar or ScalarType.Citext or ScalarType.Enum } => WholeMode.Text,
            { Scalar: ScalarType.Jsonb or ScalarType.Json } => WholeMode.Json,
            _ => WholeMode.Scalar,
        };

        var from = column.From;
        var steps = new PathStep[from.Segments.Count];
        for (var i = 0; i < steps.Length; i++)
        {
            var segment = from.Segments[i];
            steps[i] = segment.IsIndex ? new PathStep(null, segment.Index) : new PathStep(Encoding.UTF8.GetBytes(segment.Property!), 0);
        }

        Steps = steps;
        HeaderName = from.HeaderName;
        Access = from.Kind switch
        {
            SourceKind.Value when format == MessageFormat.Raw && steps.Length > 0 =>
                throw new ArgumentException($"column '{column.Name}': format raw has no fields; use 'from: value', not '{from}'"),
            SourceKind.Value when format == MessageFormat.Raw => ColumnAccess.RawValue,
            SourceKind.Value when format == MessageFormat.Json && steps.Length == 0 => ColumnAccess.WholeValue,
            SourceKind.Value => ColumnAccess.ValuePath,
            SourceKind.Key => steps.Length == 0 ? ColumnAccess.WholeKey : ColumnAccess.KeyPath,
            SourceKind.Source when format != MessageFormat.Debezium =>
                throw new ArgumentException($"column '{column.Name}': '{from}' reads the Debezium source block, but the mapping's format is {format}"),
            SourceKind.Source => ColumnAccess.SourcePath,
            SourceKind.Header => ColumnAccess.Header,
            SourceKind.Topic => ColumnAccess.Topic,
            SourceKind.Partition => ColumnAccess.Partition,
            SourceKind.Offset => ColumnAccess.Offset,
            SourceKind.Timestamp => ColumnAccess.Timestamp,
            SourceKind.Constant => ColumnAccess.Constant,
            SourceKind.Now => ColumnAccess.Now,
            SourceKind.Concat => ColumnAccess.Concat,
            _ => throw new ArgumentException($"column '{column.Name}': unsupported source '{from}'"),
        };

        if (from.Kind == SourceKind.Constant)
        {
            if (!Converter.TryFromText(from.Literal!, out var constant, out var failure) || constant is null)
            {
                throw new ArgumentException($"column '{column.Name}': constant {from} is not a valid {column.Type}: {failure.Message}");
            }

            ConstantValue = constant;
        }

        // Each argument is read as text, whatever the column's type: concat joins text, then converts the result.
        Parts = [.. from.Parts.Select(p => new ColumnPlan(new ColumnMapping(column.Name, p, s_text, Nullable: true, Default: null), format))];

        if (column.Default is { } text)
        {
            if (!Converter.TryFromText(text, out var value, out var failure) || value is null)
            {
                throw new ArgumentException($"column '{column.Name}': default '{text}' is not a valid {column.Type}: {failure.Message}");
            }

            DefaultValue = value;
        }
    }

    private static readonly ColumnType s_text = ColumnType.Parse("text");

    public ColumnMapping Column { get; }

    /// <summary>The converted constant of <see cref="ColumnAccess.Constant"/>.</summary>
    public object? ConstantValue { get; }

    /// <summary>The arguments of <see cref="ColumnAccess.Concat"/>, each a text column plan.</summary>
    public ColumnPlan[] Parts { get; }

    public ValueConverter Converter { get; }

    public ColumnAccess Access { get; }

    public WholeMode Mode { get; }

    public PathStep[] Steps { get; }

    public string? HeaderName { get; }

    /// <summary>The converted default, shared by every row that needs it (values are never mutated downstream).</summary>
    public object? DefaultValue { get; }

    /// <summary>Follows the path from <paramref name="start"/>; a missing property, index or JSON null is "no value".</summary>
    public bool TryNavigate(JsonElement start, out JsonElement result)
    {
        result = start;
        var steps = Steps;
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            if (step.Utf8Name is { } name)
            {
                if (result.ValueKind != JsonValueKind.Object || !result.TryGetProperty(name, out result))
                {
                    return false;
                }
            }
            else if (result.ValueKind != JsonValueKind.Array || step.Index >= result.GetArrayLength())
            {
                return false;
            }
            else
            {
                result = result[step.Index];
            }
        }

        return result.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);
    }
}
