using System.Text;
using System.Text.RegularExpressions;

namespace SinkConnector.Configuration.Loading;

/// <summary>
/// Replaces <c>${NAME}</c> and <c>${NAME:-default}</c> in YAML values so that secrets need not be in files.
/// <c>$${</c> is a literal <c>${</c>. As in a shell, <c>:-</c> also applies when the variable is set but empty,
/// and the default may itself hold references: <c>${A:-${B:-none}}</c>.
/// </summary>
internal static partial class EnvironmentInterpolation
{
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex NamePattern();

    /// <summary>Returns the expanded text, or null after adding one message per problem to <paramref name="problems"/>.</summary>
    /// <param name="substitutions">Receives each variable used and its value, so that messages can avoid echoing it.</param>
    public static string? Expand(
        string text, Func<string, string?> environment, List<string> problems, List<(string Name, string Value)>? substitutions = null)
    {
        if (!text.Contains('$', StringComparison.Ordinal))
        {
            return text;
        }

        return Expand(text, environment, problems, substitutions ?? [], depth: 0);
    }

    private static string? Expand(
        string text, Func<string, string?> environment, List<string> problems, List<(string Name, string Value)> substitutions, int depth)
    {
        var result = new StringBuilder(text.Length);
        var failed = false;
        var i = 0;
        while (i < text.Length)
        {
            if (string.CompareOrdinal(text, i, "$${", 0, 3) == 0)
            {
                result.Append("${");
                i += 3;
                continue;
            }

            if (string.CompareOrdinal(text, i, "${", 0, 2) != 0)
            {
                result.Append(text[i++]);
                continue;
            }

            var close = MatchingBrace(text, i + 2);
            if (close < 0)
            {
                problems.Add($"unterminated '${{' (write '$${{' for a literal '${{')");
                return null;
            }

            var inner = text[(i + 2)..close];
            var separator = inner.IndexOf(":-", StringComparison.Ordinal);
            var name = separator < 0 ? inner : inner[..separator];
            var fallback = separator < 0 ? null : inner[(separator + 2)..];
            i = close + 1;
            if (!NamePattern().IsMatch(name))
            {
                problems.Add($"'${{{inner}}}' is not a valid variable reference (expected ${{NAME}} or ${{NAME:-default}})");
                failed = true;
                continue;
            }

            var value = environment(name);
            if (!string.IsNullOrEmpty(value))
            {
                substitutions.Add((name, value));
            }
            else if (fallback is not null)
            {
                if (depth + 1 >= ConfigLimits.MaxInterpolationDepth)
                {
                    problems.Add($"defaults are nested more than {ConfigLimits.MaxInterpolationDepth} levels deep");
                    return null;
                }

                value = fallback.Contains('$', StringComparison.Ordinal)
                    ? Expand(fallback, environment, problems, substitutions, depth + 1)
                    : fallback;
                if (value is null)
                {
                    failed = true;
                    continue;
                }
            }

            if (value is null)
            {
                problems.Add($"environment variable {name} is not set");
                failed = true;
                continue;
            }

            result.Append(value);
        }

        return failed ? null : result.ToString();
    }

    /// <summary>The index of the '}' closing a reference whose name starts at <paramref name="start"/>, skipping nested references; -1 if none.</summary>
    private static int MatchingBrace(string text, int start)
    {
        var open = 0;
        for (var i = start; i < text.Length; i++)
        {
            // A literal '$${...}' in a default closes with its own brace too.
            if (string.CompareOrdinal(text, i, "${", 0, 2) == 0)
            {
                open++;
                i++;
            }
            else if (text[i] == '}')
            {
                if (open == 0)
                {
                    return i;
                }

                open--;
            }
        }

        return -1;
    }
}
