using System.Globalization;

namespace SinkConnector.PgBinary;

/// <summary>
/// A value of an unconstrained <c>numeric</c> column: a <see cref="decimal"/> when it holds the value exactly (the
/// common case, encoded without allocating), otherwise the exact decimal text (up to Postgres' 131072 integer and 16383
/// fraction digits), or NaN / Infinity / -Infinity. Which of the two holds a value depends only on the value, so two
/// messages with equal numbers compare equal (upsert keys are de-duplicated by value).
/// </summary>
public readonly struct PgNumeric : IEquatable<PgNumeric>
{
    public PgNumeric(decimal value)
    {
        Small = value;
        Big = null;
    }

    private PgNumeric(string text)
    {
        Small = 0;
        Big = text;
    }

    public decimal Small { get; }

    /// <summary>Null when <see cref="Small"/> is the value; else <c>[-]digits[.digits]</c> (no exponent, no leading zeros) or NaN, Infinity, -Infinity.</summary>
    public string? Big { get; }

    public static PgNumeric NaN { get; } = new("NaN");

    public static PgNumeric PositiveInfinity { get; } = new("Infinity");

    public static PgNumeric NegativeInfinity { get; } = new("-Infinity");

    /// <summary>Only for text that is already canonical (see <see cref="Big"/>) and that no decimal holds exactly.</summary>
    public static PgNumeric FromCanonicalText(string text) => new(text);

    public bool IsSpecial => Big is "NaN" or "Infinity" or "-Infinity";

    public bool Equals(PgNumeric other) =>
        Big is null ? other.Big is null && Small == other.Small : other.Big is not null && Trimmed(Big) == Trimmed(other.Big);

    public override bool Equals(object? obj) => obj is PgNumeric other && Equals(other);

    public override int GetHashCode() => Big is null ? Small.GetHashCode() : StringComparer.Ordinal.GetHashCode(Trimmed(Big));

    public static bool operator ==(PgNumeric left, PgNumeric right) => left.Equals(right);

    public static bool operator !=(PgNumeric left, PgNumeric right) => !left.Equals(right);

    public override string ToString() => Big ?? Small.ToString(CultureInfo.InvariantCulture);

    // 1.50 and 1.5 are the same number (Postgres compares them equal); the display scale is not part of the value.
    private static string Trimmed(string text) =>
        text.Contains('.', StringComparison.Ordinal) ? text.TrimEnd('0').TrimEnd('.') : text;
}
