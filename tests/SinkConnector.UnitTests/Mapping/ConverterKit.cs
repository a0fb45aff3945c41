using System.Text;
using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using SinkConnector.Writing;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>Builds mappings and consumed messages the way the consumer loop hands them to the converter.</summary>
internal static class ConverterKit
{
    public static readonly DateTime DefaultTimestamp = new(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc);

    public static ColumnMapping Column(string name, string from, string type, bool nullable = false, string? defaultValue = null)
    {
        Assert.True(SourceExpression.TryParse(from, out var path, out var error), error);
        return new ColumnMapping(name, path!, ColumnType.Parse(type), nullable, defaultValue);
    }

    public static MappingConfig MappingOf(MessageFormat format, params ColumnMapping[] columns) => new()
    {
        Name = "orders",
        File = "mappings/orders.yaml",
        Topics = ["orders"],
        Table = new TableName("public", "orders"),
        Format = format,
        Columns = columns,
    };

    public static MappingConfig MappingOf(params ColumnMapping[] columns) => MappingOf(MessageFormat.Json, columns);

    public static ConsumeResult<byte[]?, byte[]?> Message(
        string? value,
        string? key = null,
        Headers? headers = null,
        string topic = "orders",
        int partition = 0,
        long offset = 5,
        Timestamp? timestamp = null) =>
        MessageBytes(
            value is null ? null : Encoding.UTF8.GetBytes(value),
            key is null ? null : Encoding.UTF8.GetBytes(key),
            headers,
            topic,
            partition,
            offset,
            timestamp);

    public static ConsumeResult<byte[]?, byte[]?> MessageBytes(
        byte[]? value,
        byte[]? key = null,
        Headers? headers = null,
        string topic = "orders",
        int partition = 0,
        long offset = 5,
        Timestamp? timestamp = null) => new()
        {
            Topic = topic,
            Partition = partition,
            Offset = offset,
            Message = new Message<byte[]?, byte[]?>
            {
                Key = key,
                Value = value,
                Headers = headers ?? [],
                Timestamp = timestamp ?? new Timestamp(DefaultTimestamp),
            },
        };

    /// <summary>
    /// Converts as the sink does (the single-pass reader where the mapping allows it) and also through the
    /// JsonDocument path, and encodes the row straight into a COPY tuple as the batch converter does: every conversion
    /// test thereby proves that all three give the same values (bytes: those of encoding the values) and the same error.
    /// </summary>
    public static (object?[] Values, ConversionError? Error) Convert(MappingConfig mapping, ConsumeResult<byte[]?, byte[]?> message)
    {
        var values = new object?[mapping.Columns.Count];
        var error = new MessageConverter(mapping).TryConvert(message, values);
        var viaDocument = new object?[mapping.Columns.Count];
        var documentError = new MessageConverter(mapping, singlePass: false).TryConvert(message, viaDocument);
        Assert.Equal(documentError, error);
        if (error is null)
        {
            Assert.Equal(viaDocument, values);
        }

        // Every column as a "key" column: the tuple path must also give back each value as the values path does.
        var all = RowCopier.AllColumns(mapping);
        var tuple = new CopyBuffer();
        tuple.Write([0xAB]); // something before the row, which a failed row must leave alone
        var keyValues = new object?[mapping.Columns.Count];
        Assert.Equal(error, new MessageConverter(mapping).TryEncode(message, tuple, keyValues, all));
        if (error is null)
        {
            var expected = new CopyBuffer();
            expected.Write([0xAB]);
            new CopyRowEncoder(mapping, all).Encode(values, expected);
            Assert.Equal(expected.WrittenMemory.ToArray(), tuple.WrittenMemory.ToArray());
            Assert.Equal(values, keyValues);
        }
        else
        {
            Assert.Equal([0xAB], tuple.WrittenMemory.ToArray());
        }

        return (values, error);
    }

    /// <summary>Converts <c>{"x": json}</c> into one nullable column of <paramref name="type"/>.</summary>
    public static (object? Value, ConversionError? Error) One(string type, string json)
    {
        var (values, error) = Convert(MappingOf(Column("c", "value.x", type, nullable: true)), Message($"{{\"x\": {json}}}"));
        return (values[0], error);
    }

    public static object? Ok(string type, string json)
    {
        var (value, error) = One(type, json);
        Assert.Null(error);
        return value;
    }

    public static ConversionError Fails(string type, string json, ConversionErrorKind kind)
    {
        var (_, error) = One(type, json);
        Assert.NotNull(error);
        Assert.Equal(kind, error.Kind);
        return error;
    }
}
