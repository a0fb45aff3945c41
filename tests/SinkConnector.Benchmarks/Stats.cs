namespace SinkConnector.Benchmarks;

public static class Stats
{
    public static double Median(IEnumerable<double> values) => Percentile(values, 50);

    /// <summary>Linear interpolation between the closest ranks; NaN for no values.</summary>
    public static double Percentile(IEnumerable<double> values, double percentile) => PercentileOfSorted(values.Order().ToArray(), percentile);

    /// <summary><see cref="Percentile"/> of values already in ascending order.</summary>
    public static double PercentileOfSorted(double[] sorted, double percentile)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = percentile / 100 * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }
}
