using System.Diagnostics.Metrics;
using SinkConnector.Observability;
using SinkConnector.UnitTests.Observability;
using SinkConnector.Writing;
using static SinkConnector.UnitTests.Mapping.ConverterKit;
using static SinkConnector.UnitTests.Routing.FanOutConversionTests;

namespace SinkConnector.UnitTests.Routing;

/// <summary>In the meter's collection: every SinkMetrics of the process shares the meter name the exporter listens to.</summary>
[Collection(SinkMetricsMeter.Name)]
public class SkippedMessagesMetricTests
{
    [Fact]
    public async Task A_message_no_mapping_takes_is_counted_as_skipped_by_topic_and_reason()
    {
        using var metrics = new SinkMetrics();
        var counted = new List<(long Count, string Topic, string Reason)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SinkMetrics.MeterName && instrument.Name == "sink.messages.skipped")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            counted.Add((value, (string)tags[0].Value!, (string)tags[1].Value!)));
        listener.Start();
        var converter = new BatchConverter(
            [FanOutConversionTests.Mapping("orders", "header.type == \"order\"", 1) with { SkipWhen = Condition("value.test == true") }], metrics: metrics);

        await ConvertAsync(converter,
            Message("{\"id\":1}", headers: Type("order"), offset: 0),
            Message("{\"id\":2,\"test\":true}", headers: Type("order"), offset: 1),
            Message("{\"id\":3}", headers: Type("line"), offset: 2));

        Assert.Equal([(1L, "orders", "skip_when"), (1L, "orders", "when")], counted);
    }

}
