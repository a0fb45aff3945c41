using System.Collections.Concurrent;
using Confluent.Kafka;
using SinkConnector.Mapping.Encodings;
using SinkConnector.PgBinary;
using SinkConnector.Registry;

namespace SinkConnector.Mapping;

/// <summary>
/// The direct path for Avro values: the binary payload walked once by the writer schema's <see cref="AvroRowPlan"/>,
/// each mapped field converted into the COPY tuple, with no JSON text and no decoded record per message. It covers
/// rows (not deletes or tombstones) of mappings whose columns read <c>value.*</c>, <c>source.*</c>, the whole value as
/// json/jsonb, headers and message metadata; anything else, and every message it cannot write as it stands (a
/// conversion error, a missing required field, a payload that does not match its schema), goes the JSON path, which
/// gives the same rows and reports the errors.
/// </summary>
public sealed partial class MessageConverter
{
    [ThreadStatic]
    private static AvroLeaf[]? s_leaves;

    private readonly ConcurrentDictionary<int, AvroRowPlan?> _avroPlans = new();
    private readonly bool _avroDirect;

    /// <summary>
    /// Appends <paramref name="message"/>'s row to <paramref name="tuple"/> (and the key columns to
    /// <paramref name="keyValues"/>) straight from its Avro value. False leaves the tuple as it was: convert the
    /// message with <see cref="TryDecode"/> and <see cref="TryEncode"/> instead.
    /// </summary>
    internal bool TryEncodeDirect(ConsumeResult<byte[]?, byte[]?> message, CopyBuffer tuple, object?[] keyValues, int[] keys)
    {
        if (!_avroDirect || message.Message.Value is not { } value
            || !WireFormat.TrySplit(value, out var id, out var payload, out _))
        {
            return false;
        }

        var plan = _avroPlans.TryGetValue(id, out var known) ? known : NewPlan(id);
        if (plan is null || !_decoder!.AcceptsKey(message.Message.Key))
        {
            return false;
        }

        var leaves = s_leaves is { } kept && kept.Length >= _plans.Length ? kept : s_leaves = new AvroLeaf[_plans.Length];
        Array.Clear(leaves, 0, _plans.Length);
        var start = tuple.Length;
        var parsed = new ParsedMessage(_format);
        try
        {
            var bytes = payload.Span;
            if (!plan.TryRead(bytes, leaves))
            {
                return false;
            }

            CopyRowEncoder.WriteFieldCount(tuple, _plans.Length);
            for (var i = 0; i < _plans.Length; i++)
            {
                var column = _plans[i];
                object? columnValue;
                if (column.Access is Conversion.ColumnAccess.ValuePath or Conversion.ColumnAccess.SourcePath or Conversion.ColumnAccess.WholeValue)
                {
                    if (Array.IndexOf(keys, i) < 0 && AvroLeafConverter.TryWriteText(column.Converter, leaves[i], bytes, tuple))
                    {
                        continue;
                    }

                    if (!AvroLeafConverter.TryConvert(column.Converter, leaves[i], bytes, out columnValue))
                    {
                        tuple.Truncate(start);
                        return false;
                    }
                }
                else if (!TryRead(column, message, ref parsed, out columnValue, out _))
                {
                    tuple.Truncate(start);
                    return false;
                }

                columnValue ??= column.DefaultValue;
                if (columnValue is null && !column.Column.Nullable)
                {
                    tuple.Truncate(start);
                    return false;
                }

                if (Array.IndexOf(keys, i) >= 0)
                {
                    keyValues[i] = columnValue;
                }

                CopyRowEncoder.WriteField(tuple, columnValue, column.Converter.Type);
            }

            return true;
        }
        catch (Exception e) when (e is AvroDataException || IsConversionFault(e))
        {
            tuple.Truncate(start);
            return false;
        }
        finally
        {
            parsed.Dispose();
        }
    }

    /// <summary>An id's plan, kept once the registry had its schema (an unknown id may be registered later).</summary>
    private AvroRowPlan? NewPlan(int id)
    {
        if (_decoder!.AvroSchema(id) is not { } schema)
        {
            return null;
        }

        var plan = AvroRowPlan.TryCreate(schema, _plans, _format);
        _avroPlans.TryAdd(id, plan);
        return plan;
    }
}
