using NpgsqlTypes;
using SinkConnector.PgBinary;

namespace SinkConnector.UnitTests.Mapping;

public class ColumnTypeTests
{
    [Theory]
    [InlineData("bigint", "bigint")]
    [InlineData("numeric(12,2)", "numeric(12,2)")]
    [InlineData("numeric(12)", "numeric(12,0)")]
    [InlineData("NUMERIC", "numeric")]
    [InlineData("varchar(40)", "character varying(40)")]
    [InlineData("double precision", "double precision")]
    [InlineData("timestamptz", "timestamp with time zone")]
    [InlineData("text[]", "text[]")]
    [InlineData("bigint[]", "bigint[]")]
    [InlineData("inet", "inet")]
    [InlineData("CIDR[]", "cidr[]")]
    [InlineData("macaddr", "macaddr")]
    [InlineData("interval[]", "interval[]")]
    [InlineData("citext", "citext")]
    [InlineData("tstzrange", "tstzrange")]
    [InlineData("daterange[]", "daterange[]")]
    [InlineData("enum(order_status)", "\"order_status\"")]
    [InlineData(" ENUM ( Sales.Order_Status ) ", "\"Sales\".\"Order_Status\"")]
    [InlineData("enum(order_status)[]", "\"order_status\"[]")]
    [InlineData("citext[]", "citext[]")]
    [InlineData("MACADDR8", "macaddr8")]
    [InlineData("macaddr8[]", "macaddr8[]")]
    public void Parses_type_names_to_the_spelling_postgres_reports(string text, string sqlName)
    {
        Assert.Equal(sqlName, ColumnType.Parse(text).SqlName);
    }

    [Theory]
    [InlineData("money")]
    [InlineData("bigint(3)")]
    [InlineData("numeric(2,5)")]
    [InlineData("varchar(1,2)")]
    [InlineData("jsonb[]")]
    [InlineData("")]
    [InlineData("enum()")]
    [InlineData("enum(a.b.c)")]
    [InlineData("enum(\"quoted\")")]
    [InlineData("interval(3)")]
    [InlineData("macaddr8(8)")]
    [InlineData("enum(order_status)[][]")]
    public void Rejects_unknown_or_malformed_types_with_a_reason(string text)
    {
        Assert.False(ColumnType.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Arrays_write_as_npgsql_array_types()
    {
        Assert.Equal(NpgsqlDbType.Array | NpgsqlDbType.Bigint, ColumnType.Parse("bigint[]").NpgsqlDbType);
    }
}
