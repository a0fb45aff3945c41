using System.Text.Json.Serialization;

namespace SinkConnector.Benchmarks.Scenarios;

/// <summary>The order event as the alternatives deserialize it (System.Text.Json, source-generated: their best case).</summary>
public sealed class OrderMessage
{
    public long Id { get; set; }

    public CustomerRef Customer { get; set; } = new();

    public decimal Amount { get; set; }

    public string Currency { get; set; } = "";

    public string Status { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public string Note { get; set; } = "";
}

public sealed class CustomerRef
{
    public Guid Id { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(OrderMessage))]
public sealed partial class OrderJsonContext : JsonSerializerContext;
