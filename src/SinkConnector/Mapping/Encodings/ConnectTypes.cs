using System.Text.Json;
using Avro;
using AvroSchema = Avro.Schema;

namespace SinkConnector.Mapping.Encodings;

/// <summary>
/// Kafka Connect's and Debezium's named types, which the Confluent AvroConverter marks with a <c>connect.name</c>
/// property (most without an Avro logical type): written as the same text as the Avro logical types they stand for.
/// </summary>
internal static class ConnectTypes
{
    public static string? Name(AvroSchema schema) =>
        schema.GetProperty("connect.name") is { } name ? name.Trim('"') : null;

    /// <summary>Writes the value if <paramref name="name"/> is a type handled here; false leaves it to the Avro type.</summary>
    public static bool TryWrite(string name, AvroSchema schema, ref AvroBinaryReader reader, Utf8JsonWriter json)
    {
        switch (name)
        {
            case "io.debezium.time.Date" or "org.apache.kafka.connect.data.Date":
                json.WriteStringValue(AvroJsonWriter.Date(reader.ReadInt()));
                return true;
            case "io.debezium.time.Time" or "org.apache.kafka.connect.data.Time":
                json.WriteStringValue(AvroJsonWriter.Time(reader.ReadInt() * TimeSpan.TicksPerMillisecond));
                return true;
            case "io.debezium.time.MicroTime":
                json.WriteStringValue(AvroJsonWriter.Time(reader.ReadLong() * TimeSpan.TicksPerMicrosecond));
                return true;
            case "io.debezium.time.NanoTime":
                json.WriteStringValue(AvroJsonWriter.Time(reader.ReadLong() / 100));
                return true;
            case "org.apache.kafka.connect.data.Timestamp":
                json.WriteStringValue(AvroJsonWriter.Timestamp(reader.ReadLong(), TimeSpan.TicksPerMillisecond, utc: true));
                return true;

            // Debezium's timestamps without time zone: the wall time, counted as if it were UTC.
            case "io.debezium.time.Timestamp":
                json.WriteStringValue(AvroJsonWriter.Timestamp(reader.ReadLong(), TimeSpan.TicksPerMillisecond, utc: false));
                return true;
            case "io.debezium.time.MicroTimestamp":
                json.WriteStringValue(AvroJsonWriter.Timestamp(reader.ReadLong(), TimeSpan.TicksPerMicrosecond, utc: false));
                return true;
            case "io.debezium.time.NanoTimestamp":
                var nanos = reader.ReadLong();
                json.WriteStringValue(AvroJsonWriter.Timestamp(nanos / 100, 1, utc: false));
                return true;
            case "org.apache.kafka.connect.data.Decimal" when schema is not LogicalSchema && schema.Tag == AvroSchema.Type.Bytes:
                // Without logicalType (older converters): the scale is in connect.parameters.
                json.WriteRawValue(AvroJsonWriter.DecimalText(reader.ReadBytes(), ConnectScale(schema)), skipInputValidation: true);
                return true;
            case "io.debezium.data.VariableScaleDecimal" when schema is RecordSchema { Fields.Count: 2 } record
                && record.Fields[0].Name == "scale" && record.Fields[1].Name == "value":
                var scale = reader.ReadInt();
                json.WriteRawValue(AvroJsonWriter.DecimalText(reader.ReadBytes(), scale), skipInputValidation: true);
                return true;
            default:
                return false;
        }
    }

    internal static int ConnectScale(AvroSchema schema)
    {
        if (schema.GetProperty("connect.parameters") is not { } parameters)
        {
            return 0;
        }

        using var document = JsonDocument.Parse(parameters);
        return document.RootElement.TryGetProperty("scale", out var scale) && int.TryParse(scale.GetString(), out var value) ? value : 0;
    }
}
