using System.Globalization;
using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Configuration.Routing;
using SinkConnector.Mapping.Encodings;

namespace SinkConnector.Mapping.Routing;

/// <summary>
/// A mapping's <c>when:</c> and <c>skip_when:</c>, evaluated per message during conversion (no second pass over the
/// batch). A source that is absent (or JSON null) equals nothing, is in no list, and differs from every literal.
/// </summary>
internal sealed class MessageFilter
{
    private readonly Condition? _when;
    private readonly Condition? _skipWhen;
    private readonly MessageFormat _format;
    private readonly PayloadDecoder? _decoder;

    private MessageFilter(MappingConfig mapping, PayloadDecoder? decoder)
    {
        _when = mapping.When;
        _skipWhen = mapping.SkipWhen;
        _format = mapping.Format;
        _decoder = decoder;
    }

    /// <summary>Null when the mapping takes every message of its topics.</summary>
    public static MessageFilter? For(MappingConfig mapping, PayloadDecoder? decoder) =>
        mapping.When is null && mapping.SkipWhen is null ? null : new MessageFilter(mapping, decoder);

    /// <summary>Null on success; else why the conditions cannot be evaluated (the value is not of the mapping's format).</summary>
    /// <param name="original">The message as consumed: <c>schema</c> reads its registry schema id.</param>
    /// <param name="decoded">The message with registry-encoded key and value decoded to JSON.</param>
    public ConversionError? TryEvaluate(ConsumeResult<byte[]?, byte[]?> original, ConsumeResult<byte[]?, byte[]?> decoded, out FilterVerdict verdict)
    {
        using var input = new ConditionInput(original, decoded, _format, _decoder);
        try
        {
            verdict = _when is not null && !Holds(_when, input) ? FilterVerdict.NotWhen
                : _skipWhen is not null && Holds(_skipWhen, input) ? FilterVerdict.SkipWhen
                : FilterVerdict.Take;
            return null;
        }
        catch (ConditionInputException e)
        {
            verdict = FilterVerdict.Take;
            var which = _when is not null ? "when" : "skip_when";
            return new ConversionError(e.Kind, "", $"{which}: {e.Message}");
        }
    }

    private static bool Holds(Condition condition, ConditionInput input) => condition switch
    {
        AndCondition and => Holds(and.Left, input) && Holds(and.Right, input),
        OrCondition or => Holds(or.Left, input) || Holds(or.Right, input),
        NotCondition not => !Holds(not.Inner, input),
        Comparison comparison => Compare(comparison, input.Read(comparison.Source)),
        _ => throw new InvalidOperationException($"unhandled condition {condition.GetType().Name}"),
    };

    private static bool Compare(Comparison comparison, string? text) => comparison.Operator switch
    {
        ComparisonOperator.Exists => text is not null,
        ComparisonOperator.Equal => text is not null && Matches(text, comparison.Literals[0]),
        ComparisonOperator.NotEqual => text is null || !Matches(text, comparison.Literals[0]),
        _ => text is not null && comparison.Literals.Any(l => Matches(text, l)),
    };

    /// <summary>Text compares exactly; numbers by value (1.0 == 1), since JSON writers differ in how they print them.</summary>
    internal static bool Matches(string text, string literal) =>
        string.Equals(text, literal, StringComparison.Ordinal)
        || (TryNumber(text, out var a) && TryNumber(literal, out var b) && a == b);

    private static bool TryNumber(string text, out decimal number) =>
        decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out number);
}
