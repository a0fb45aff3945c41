using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using SinkConnector.Writing;

namespace SinkConnector.UnitTests.Writing;

/// <summary>How a batch's rows are split into statements when a mapping gained columns mid-batch.</summary>
public sealed class MappingRunsTests
{
    private static readonly MappingConfig s_v1 = new()
    {
        Name = "readings",
        File = "readings.yaml",
        Topics = ["readings"],
        Table = new TableName("public", "readings"),
        Columns = [new ColumnMapping("id", SourcePath.TryParse("value.id", out var p, out _) ? p! : null!, ColumnType.Parse("bigint"), false, null)],
    };

    private static readonly MappingConfig s_v2 = s_v1 with { Columns = [.. s_v1.Columns, s_v1.Columns[0] with { Name = "note", Nullable = true }] };
    private static readonly MappingConfig s_other = s_v1 with { Name = "orders" };

    private static RowChange Row(MappingConfig mapping, long id) => new(mapping, ChangeKind.Write, [id], null);

    [Fact]
    public void Without_a_new_version_each_mapping_is_one_run_over_all_its_slices_in_write_order()
    {
        var runs = MappingRuns.Of([[Row(s_v1, 1), Row(s_v1, 3)], [Row(s_other, 2)], [Row(s_v1, 5)]]).ToList();

        // Write order: by order:, then name ("orders" before "readings"), whatever order the slices came in.
        Assert.Equal([s_other, s_v1], runs.Select(r => r.Mapping));
        Assert.Equal([1L, 3L, 5L], runs[1].Changes.Select(c => (long)c.Values[0]!));
    }

    [Fact]
    public void Rows_of_two_versions_are_written_in_runs_that_keep_each_partitions_offset_order()
    {
        var runs = MappingRuns.Of([[Row(s_v1, 1), Row(s_v2, 2), Row(s_v1, 3)], [Row(s_v2, 4)]]).ToList();

        Assert.Equal([s_v1, s_v2, s_v1, s_v2], runs.Select(r => r.Mapping));
        Assert.Equal([[1L], [2L], [3L], [4L]], runs.Select(r => r.Changes.Select(c => (long)c.Values[0]!).ToArray()));
    }

    [Fact]
    public void When_no_slice_mixes_mappings_each_slice_goes_by_its_first_row_with_the_same_runs_in_the_same_order()
    {
        List<RowChange>[] slices = [[Row(s_v1, 1), Row(s_v1, 3)], [Row(s_other, 2)], [], [Row(s_v1, 5)]];

        var runs = MappingRuns.Of(slices, slicesMixMappings: false).ToList();

        Assert.Equal([s_other, s_v1], runs.Select(r => r.Mapping));
        Assert.Equal([[2L], [1L, 3L, 5L]], runs.Select(r => r.Changes.Select(c => (long)c.Values[0]!).ToArray()));
        var mixed = MappingRuns.Of(slices).ToList();
        Assert.Equal(mixed.Select(r => r.Mapping), runs.Select(r => r.Mapping));
        Assert.Equal(mixed.Select(r => r.Changes.Select(c => (long)c.Values[0]!).ToArray()), runs.Select(r => r.Changes.Select(c => (long)c.Values[0]!).ToArray()));
    }
}
