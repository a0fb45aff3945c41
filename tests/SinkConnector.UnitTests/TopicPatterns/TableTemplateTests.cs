using SinkConnector.Configuration;

namespace SinkConnector.UnitTests.TopicPatterns;

public sealed class TableTemplateTests
{
    private static TopicPattern Pattern(string text)
    {
        Assert.True(TopicPattern.TryParse(text, out var pattern, out var error), error);
        return pattern!;
    }

    private static TableName Render(string template, string regex, string topic)
    {
        var pattern = Pattern(regex);
        Assert.True(TableTemplate.TryParse(template, pattern, out var parsed, out var error), error);
        return parsed!.Render(topic, pattern.Match(topic)!);
    }

    [Fact]
    public void Topic_numbered_and_named_groups_fill_the_table_name()
    {
        Assert.Equal(new TableName("analytics", "events_shop_orders"), Render("analytics.events_{topic}", "shop\\..*", "shop.orders"));
        Assert.Equal(new TableName("public", "t_acme_orders"), Render("t_{1}_{2}", "([a-z]+)\\.([a-z]+)", "acme.orders"));
        Assert.Equal(new TableName("public", "acme_orders"), Render("public.{tenant}_{kind}", "(?<tenant>[a-z]+)\\.(?<kind>[a-z]+)", "acme.orders"));
    }

    [Fact]
    public void Interleaved_with_named_groups_the_unnamed_ones_are_numbered_left_to_right_and_named_ones_have_no_number()
    {
        // .NET numbers the unnamed groups first (1, 2), then the named ones (env 3, kind 4); a template reads a named
        // group by its name only, so {1} is the first unnamed group wherever the named ones stand.
        const string regex = "(?<env>[a-z]+)\\.([a-z]+)\\.(?<kind>[a-z]+)\\.([0-9]+)";
        var pattern = Pattern(regex);
        Assert.Equal(["0", "1", "2", "env", "kind"], pattern.Regex.GetGroupNames());
        Assert.Equal([0, 1, 2, 3, 4], pattern.Regex.GetGroupNumbers());

        Assert.Equal(new TableName("public", "prod_shop_orders_7__prod_shop_orders_7"), Render("{env}_{1}_{kind}_{2}__{topic}", regex, "prod.shop.orders.7"));
        foreach (var number in new[] { "{3}", "{4}" })
        {
            Assert.False(TableTemplate.TryParse($"t_{number}", pattern, out _, out var error));
            Assert.Contains($"{number} is neither {{topic}} nor a group of topics_regex '{regex}' (groups: {{1}}, {{2}}, {{env}}, {{kind}})", error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Shop.Orders-V2", "shop_orders_v2")]
    [InlineData("a__b", "a__b")]
    [InlineData("123", "123")]
    [InlineData("", "_")]
    public void A_rendered_name_becomes_lower_case_letters_digits_and_underscores(string name, string table)
    {
        Assert.Equal(table, TableTemplate.Sanitise(name));
    }

    [Fact]
    public void A_name_over_63_bytes_is_cut_with_a_hash_so_long_topics_do_not_share_a_table()
    {
        var a = TableTemplate.Sanitise(new string('a', 70) + "1");
        var b = TableTemplate.Sanitise(new string('a', 70) + "2");

        Assert.Equal(63, a.Length);
        Assert.StartsWith(new string('a', 54) + "_", a, StringComparison.Ordinal);
        Assert.NotEqual(a, b);
        Assert.Equal(a, TableTemplate.Sanitise(new string('a', 70) + "1"));
        Assert.Equal(new string('b', 63), TableTemplate.Sanitise(new string('b', 63)));
    }

    [Theory]
    [InlineData("events_{2}", "{2} is neither {topic} nor a group of topics_regex '([a-z]+)\\.x' (groups: {1})")]
    [InlineData("events_{kind}", "{kind} is neither {topic} nor a group")]
    [InlineData("events_{0}", "{0} is neither {topic} nor a group")]
    [InlineData("{1}.events", "only the table name may hold placeholders")]
    [InlineData("a.\"events_{1}\"", "only the table name may hold placeholders")]
    [InlineData("events_{1", "has an unmatched '{' or '}'")]
    public void A_template_with_unknown_groups_or_placeholders_outside_the_name_is_refused(string template, string reason)
    {
        Assert.False(TableTemplate.TryParse(template, Pattern("([a-z]+)\\.x"), out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
