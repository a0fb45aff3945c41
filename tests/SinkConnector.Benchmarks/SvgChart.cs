using System.Globalization;
using System.Net;
using System.Text;

namespace SinkConnector.Benchmarks;

/// <summary>A horizontal bar chart of rows/s: one group per scenario, one bar per workload size.</summary>
public static class SvgChart
{
    private const int LabelWidth = 230;
    private const int BarArea = 520;
    private const int BarHeight = 14;
    private const int GroupGap = 10;
    private const int Top = 40;

    private static readonly string[] s_sizeShades = ["0.55", "1"];

    public static string Render(string title, IReadOnlyList<string> scenarios, IReadOnlyList<int> sizes, Func<string, int, double?> rate)
    {
        var invariant = CultureInfo.InvariantCulture;
        var max = scenarios.SelectMany(s => sizes.Select(size => rate(s, size) ?? 0)).DefaultIfEmpty(1).Max();
        var scale = BarArea / Math.Max(max, 1);
        var groupHeight = sizes.Count * BarHeight + GroupGap;
        var height = Top + scenarios.Count * groupHeight + 40;
        var width = LabelWidth + BarArea + 140;
        var svg = new StringBuilder();
        svg.AppendLine(invariant, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">""");
        svg.AppendLine(invariant, $"""<rect width="{width}" height="{height}" fill="white"/>""");
        svg.AppendLine(invariant, $"""<text x="10" y="20" font-size="14" font-weight="bold">{WebUtility.HtmlEncode(title)}</text>""");
        for (var i = 0; i < scenarios.Count; i++)
        {
            var scenario = scenarios[i];
            var y = Top + i * groupHeight;
            var color = scenario switch
            {
                Scenario.Sink or Scenario.SinkUpsert or Scenario.SinkDefaultPrefetch => "#1f77b4",
                Scenario.Copy or Scenario.CopyUpsert or Scenario.Consume or Scenario.PsqlCopy => "#7f7f7f",
                _ => "#ff7f0e",
            };
            svg.AppendLine(invariant, $"""<text x="{LabelWidth - 8}" y="{y + sizes.Count * BarHeight / 2 + 4}" text-anchor="end">{WebUtility.HtmlEncode(Scenario.Short(scenario))}</text>""");
            for (var s = 0; s < sizes.Count; s++)
            {
                var value = rate(scenario, sizes[s]) ?? 0;
                var barY = y + s * BarHeight;
                var barWidth = Math.Max(1, value * scale);
                svg.AppendLine(invariant, $"""<rect x="{LabelWidth}" y="{barY}" width="{barWidth:F1}" height="{BarHeight - 2}" fill="{color}" fill-opacity="{s_sizeShades[Math.Min(s, s_sizeShades.Length - 1)]}"/>""");
                svg.AppendLine(invariant, $"""<text x="{LabelWidth + barWidth + 4:F1}" y="{barY + BarHeight - 4}">{value:N0}</text>""");
            }
        }

        var legendY = height - 15;
        svg.AppendLine(invariant, $"""<text x="10" y="{legendY}">pale bar: {sizes[0]:N0} messages; dark bar: {sizes[^1]:N0} messages. Grey: ceilings; orange: alternatives; blue: SinkConnector.</text>""");
        svg.AppendLine("</svg>");
        return svg.ToString();
    }
}
