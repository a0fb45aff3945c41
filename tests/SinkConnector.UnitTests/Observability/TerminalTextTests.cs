using SinkConnector.Observability;

namespace SinkConnector.UnitTests.Observability;

public class TerminalTextTests
{
    [Theory]
    [InlineData("plain text, café, 😀", "plain text, café, 😀")]
    [InlineData("\u001b[31mred\u001b[0m", "\\u001b[31mred\\u001b[0m")]
    [InlineData("a\nforged log line\r\tb", "a\\u000aforged log line\\u000d\\u0009b")]
    [InlineData("\u0000\u0007\u007f\u009b", "\\u0000\\u0007\\u007f\\u009b")] // NUL, BEL, DEL and the C1 CSI
    [InlineData("abc\u202edef\u2066x\u2069", "abc\\u202edef\\u2066x\\u2069")] // bidi overrides reorder what is shown
    [InlineData("line\u2028sep", "line\\u2028sep")]
    public void Escape_writes_what_a_terminal_would_act_on_as_u_escapes_and_keeps_the_rest(string text, string expected)
    {
        Assert.Equal(expected, TerminalText.Escape(text));
        Assert.Equal(text == expected, TerminalText.IsSafe(text));
    }

    [Fact]
    public void Halves_of_surrogate_pairs_are_escaped_and_whole_pairs_kept()
    {
        // Not theory data: test runners pass arguments as UTF-8, which cannot carry a lone surrogate.
        Assert.Equal("lone \\ud800 high, lone \\udc00 low", TerminalText.Escape("lone \ud800 high, lone \udc00 low"));
        Assert.Equal("pair at the end 😀\\ud83d", TerminalText.Escape("pair at the end 😀\ud83d"));
        Assert.False(TerminalText.IsSafe("\udc00"));
    }

    [Fact]
    public void Safe_text_is_returned_as_the_same_instance()
    {
        const string text = "nothing to escape";
        Assert.Same(text, TerminalText.Escape(text));
    }
}
