using System.Text;

namespace SinkConnector.Configuration;

/// <summary>
/// A column's <c>from:</c>: a source path (<see cref="SourcePath.TryParse"/>), or one of the few computed values:
/// a constant in single quotes (<c>'web'</c>, <c>''</c> for a quote inside), <c>now()</c>, or
/// <c>concat(arg, ...)</c> of source paths and constants. Deliberately no operators, nesting or other functions:
/// anything richer belongs in the producer or in Postgres (a generated column or a trigger).
/// </summary>
public static class SourceExpression
{
    public static bool TryParse(string text, out SourcePath? path, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        path = null;
        var trimmed = text.Trim();
        if (trimmed.StartsWith('\''))
        {
            return TryParseLiteral(trimmed, out path, out error);
        }

        if (FunctionName(trimmed) is not { } name)
        {
            return SourcePath.TryParse(text, out path, out error);
        }

        if (!trimmed.EndsWith(')'))
        {
            error = $"'{text}': a function call must end with ')'";
            return false;
        }

        var inside = trimmed[(trimmed.IndexOf('(', StringComparison.Ordinal) + 1)..^1];
        switch (name)
        {
            case "now":
                error = inside.Trim().Length == 0 ? null : "now() takes no arguments";
                path = error is null ? new SourcePath(SourceKind.Now, [], null, "now()") : null;
                return error is null;
            case "concat":
                return TryParseConcat(trimmed, inside, out path, out error);
            default:
                error = $"unknown function '{name}()': from: takes a source path, a 'constant', now() or concat(...)";
                return false;
        }
    }

    private static bool TryParseConcat(string text, string inside, out SourcePath? path, out string? error)
    {
        path = null;
        if (!TrySplitArguments(inside, out var arguments, out error))
        {
            error = $"'{text}': {error}";
            return false;
        }

        if (arguments.Count < 2)
        {
            error = $"'{text}': concat needs at least two arguments";
            return false;
        }

        var parts = new List<SourcePath>();
        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i].Trim();
            var ok = argument.StartsWith('\'')
                ? TryParseLiteral(argument, out var part, out error)
                : FunctionName(argument) is null ? SourcePath.TryParse(argument, out part, out error) : Fail(out part, out error);
            if (!ok)
            {
                error = $"'{text}': argument {i + 1}: {error}";
                return false;
            }

            parts.Add(part!);
        }

        path = new SourcePath(SourceKind.Concat, [], null, text) { Parts = parts };
        return true;

        static bool Fail(out SourcePath? part, out string? error)
        {
            part = null;
            error = "concat takes source paths and 'constants', not function calls";
            return false;
        }
    }

    private static bool TryParseLiteral(string text, out SourcePath? path, out string? error)
    {
        path = null;
        var literal = new StringBuilder();
        var i = 1;
        while (true)
        {
            if (i >= text.Length)
            {
                error = $"{text}: the constant has no closing quote (write '' for a quote inside it)";
                return false;
            }

            if (text[i] == '\'')
            {
                if (i + 1 < text.Length && text[i + 1] == '\'')
                {
                    literal.Append('\'');
                    i += 2;
                    continue;
                }

                break;
            }

            literal.Append(text[i++]);
        }

        if (i != text.Length - 1)
        {
            error = $"{text}: unexpected text after the closing quote of the constant";
            return false;
        }

        error = null;
        path = new SourcePath(SourceKind.Constant, [], null, text) { Literal = literal.ToString() };
        return true;
    }

    /// <summary>Splits at commas outside quotes.</summary>
    private static bool TrySplitArguments(string inside, out List<string> arguments, out string? error)
    {
        arguments = [];
        var quoted = false;
        var start = 0;
        for (var i = 0; i < inside.Length; i++)
        {
            if (inside[i] == '\'')
            {
                quoted = !quoted;
            }
            else if (inside[i] == ',' && !quoted)
            {
                arguments.Add(inside[start..i]);
                start = i + 1;
            }
        }

        arguments.Add(inside[start..]);
        if (arguments.Any(a => a.Trim().Length == 0))
        {
            error = "empty argument";
            return false;
        }

        error = quoted ? "a constant has no closing quote" : null;
        return !quoted;
    }

    /// <summary>The lower-case name before '(' when the text is a call (a bare word directly followed by '('), else null.</summary>
    private static string? FunctionName(string text)
    {
        var paren = text.IndexOf('(', StringComparison.Ordinal);
        if (paren <= 0)
        {
            return null;
        }

        var name = text[..paren].TrimEnd();
        return name.Length > 0 && name.All(c => char.IsAsciiLetter(c) || c == '_') ? name.ToLowerInvariant() : null;
    }
}
