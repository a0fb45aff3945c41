using System.Globalization;
using System.Text;

namespace SinkConnector.Configuration.Routing;

/// <summary>
/// Parses the condition language of <c>when:</c> and <c>skip_when:</c>:
/// <code>
/// condition  := or
/// or         := and ("or" and)*
/// and        := unary ("and" unary)*
/// unary      := "not" unary | "(" condition ")" | comparison
/// comparison := source ("==" literal | "!=" literal | "in" "[" literal ("," literal)* "]" | "exists")
/// source     := a from: path (header.x, key, key.f, value.a.b, source.table, topic, partition) | schema
/// literal    := "text" | 'text' | number | true | false
/// </code>
/// Kept this small on purpose: it runs per message and mapping during conversion, and every form is documented.
/// </summary>
public static class ConditionParser
{
    private static readonly HashSet<string> s_keywords = ["and", "or", "not", "in", "exists"];

    public static bool TryParse(string text, out Condition? condition, out string? error)
    {
        condition = null;
        error = null;
        try
        {
            var parser = new Parser(text, Tokenize(text));
            var parsed = parser.ParseOr();
            parser.ExpectEnd();
            condition = parsed with { Text = text };
            return true;
        }
        catch (FormatException e)
        {
            error = e.Message;
            return false;
        }
    }

    private enum TokenKind
    {
        Word,
        Text,
        Symbol,
    }

    private readonly record struct Token(TokenKind Kind, string Value, int Position);

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c is '(' or ')' or '[' or ']' or ',')
            {
                tokens.Add(new Token(TokenKind.Symbol, c.ToString(), i++));
            }
            else if (c is '=' or '!')
            {
                if (i + 1 >= text.Length || text[i + 1] != '=')
                {
                    throw new FormatException($"at {i + 1}: expected '==' or '!='");
                }

                tokens.Add(new Token(TokenKind.Symbol, text.Substring(i, 2), i));
                i += 2;
            }
            else if (c is '"' or '\'')
            {
                tokens.Add(ReadQuoted(text, ref i));
            }
            else
            {
                var start = i;
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('(' or ')' or ']' or ',' or '=' or '!' or '"' or '\''))
                {
                    // An array index belongs to the path (value.tags[1]); any other '[' opens a list.
                    if (text[i] == '[')
                    {
                        if (!IsIndex(text, i))
                        {
                            break;
                        }

                        i = text.IndexOf(']', i);
                    }

                    i++;
                }

                tokens.Add(new Token(TokenKind.Word, text[start..i], start));
            }
        }

        return tokens;
    }

    private static bool IsIndex(string text, int bracket)
    {
        var close = text.IndexOf(']', bracket);
        return close > bracket + 1 && text.AsSpan(bracket + 1, close - bracket - 1).IndexOfAnyExceptInRange('0', '9') < 0;
    }

    // A backslash escapes the quote and itself; nothing else is special, so header values keep their characters.
    private static Token ReadQuoted(string text, ref int i)
    {
        var quote = text[i];
        var start = i++;
        var value = new StringBuilder();
        while (i < text.Length && text[i] != quote)
        {
            if (text[i] == '\\' && i + 1 < text.Length && (text[i + 1] == quote || text[i + 1] == '\\'))
            {
                i++;
            }

            value.Append(text[i++]);
        }

        if (i >= text.Length)
        {
            throw new FormatException($"at {start + 1}: unterminated text literal (missing {quote})");
        }

        i++;
        return new Token(TokenKind.Text, value.ToString(), start);
    }

    private sealed class Parser(string text, List<Token> tokens)
    {
        private int _next;

        public Condition ParseOr()
        {
            var left = ParseAnd();
            while (TakeWord("or"))
            {
                left = new OrCondition(left, ParseAnd()) { Text = text };
            }

            return left;
        }

        public void ExpectEnd()
        {
            if (_next < tokens.Count)
            {
                throw Unexpected("and, or or the end");
            }
        }

        private Condition ParseAnd()
        {
            var left = ParseUnary();
            while (TakeWord("and"))
            {
                left = new AndCondition(left, ParseUnary()) { Text = text };
            }

            return left;
        }

        private Condition ParseUnary()
        {
            if (TakeWord("not"))
            {
                return new NotCondition(ParseUnary()) { Text = text };
            }

            if (TakeSymbol("("))
            {
                var inner = ParseOr();
                if (!TakeSymbol(")"))
                {
                    throw Unexpected("')'");
                }

                return inner;
            }

            return ParseComparison();
        }

        private Comparison ParseComparison()
        {
            if (Peek() is not { Kind: TokenKind.Word } word || s_keywords.Contains(word.Value))
            {
                throw Unexpected("a source such as header.type, value.kind, key, source.table or schema");
            }

            _next++;
            var source = ParseSource(word);
            if (TakeWord("exists"))
            {
                return new Comparison(source, ComparisonOperator.Exists, []) { Text = text };
            }

            if (TakeSymbol("=="))
            {
                return new Comparison(source, ComparisonOperator.Equal, [ParseLiteral()]) { Text = text };
            }

            if (TakeSymbol("!="))
            {
                return new Comparison(source, ComparisonOperator.NotEqual, [ParseLiteral()]) { Text = text };
            }

            if (TakeWord("in"))
            {
                if (!TakeSymbol("["))
                {
                    throw Unexpected("'[' after in");
                }

                var literals = new List<string> { ParseLiteral() };
                while (TakeSymbol(","))
                {
                    literals.Add(ParseLiteral());
                }

                if (!TakeSymbol("]"))
                {
                    throw Unexpected("',' or ']'");
                }

                return new Comparison(source, ComparisonOperator.In, literals) { Text = text };
            }

            throw Unexpected($"==, !=, in or exists after {word.Value}");
        }

        private static ConditionSource ParseSource(Token word)
        {
            if (word.Value == "schema")
            {
                return new ConditionSource(null, IsSchemaName: true);
            }

            if (!SourcePath.TryParse(word.Value, out var path, out var error))
            {
                throw new FormatException($"at {word.Position + 1}: {error} (or schema, the value's writer schema name)");
            }

            return new ConditionSource(path, IsSchemaName: false);
        }

        private string ParseLiteral()
        {
            var token = Peek() ?? throw Unexpected("a literal");
            if (token.Kind == TokenKind.Text)
            {
                _next++;
                return token.Value;
            }

            if (token.Kind == TokenKind.Word && (token.Value is "true" or "false"
                || decimal.TryParse(token.Value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out _)))
            {
                _next++;
                return token.Value;
            }

            throw token.Kind == TokenKind.Word
                ? new FormatException($"at {token.Position + 1}: '{token.Value}' is not a literal; put text in quotes (\"{token.Value}\")")
                : Unexpected("a literal (\"text\", a number, true or false)");
        }

        private Token? Peek() => _next < tokens.Count ? tokens[_next] : null;

        private bool TakeWord(string keyword)
        {
            if (Peek() is { Kind: TokenKind.Word } token && token.Value == keyword)
            {
                _next++;
                return true;
            }

            return false;
        }

        private bool TakeSymbol(string symbol)
        {
            if (Peek() is { Kind: TokenKind.Symbol } token && token.Value == symbol)
            {
                _next++;
                return true;
            }

            return false;
        }

        private FormatException Unexpected(string expected) => Peek() is { } token
            ? new FormatException($"at {token.Position + 1}: expected {expected}, found '{token.Value}'")
            : new FormatException($"expected {expected} at the end");
    }
}
