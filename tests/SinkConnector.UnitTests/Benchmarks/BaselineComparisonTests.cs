using SinkConnector.Benchmarks;

namespace SinkConnector.UnitTests.Benchmarks;

/// <summary>The benchmark's comparison with another sink build (<c>--baseline-sink-dll</c>).</summary>
public sealed class BaselineComparisonTests
{
    [Fact]
    public void Baseline_scenarios_run_only_when_a_baseline_build_is_given()
    {
        Assert.DoesNotContain(BenchOptions.Parse([]).Scenarios, Scenario.IsBaseline);
        Assert.DoesNotContain(BenchOptions.Parse(["--scenarios", "sink,sink-baseline"]).Scenarios, Scenario.IsBaseline);

        var options = BenchOptions.Parse(["--baseline-sink-dll", "/tmp/base/sink.dll", "--tag", "fanout"]);
        Assert.Contains(Scenario.SinkBaseline, options.Scenarios);
        Assert.Contains(Scenario.SinkUpsertBaseline, options.Scenarios);
        Assert.Equal("/tmp/base/sink.dll", options.BaselineSinkDll);
        Assert.Equal("fanout", options.Tag);

        // A runtime setting against the same build: the baseline runs this build with the variable.
        var setting = BenchOptions.Parse(["--scenarios", "sink,sink-baseline", "--baseline-sink-env", "DOTNET_GCgen0size=0x2000000"]);
        Assert.Contains(Scenario.SinkBaseline, setting.Scenarios);
        Assert.Null(setting.BaselineSinkDll);
        Assert.Equal("0x2000000", setting.BaselineSinkEnvironment["DOTNET_GCgen0size"]);
        Assert.Empty(setting.SinkEnvironment);
    }

    [Fact]
    public void Every_other_repetition_runs_the_baseline_before_the_build_it_is_compared_with()
    {
        string[] scenarios = [Scenario.PsqlCopy, Scenario.Sink, Scenario.SinkBaseline, Scenario.SinkUpsert, Scenario.SinkUpsertBaseline, Scenario.SinkFanOut];

        Assert.Equal(scenarios, Runner.InAlternatingOrder(scenarios, repetition: 1));
        Assert.Equal(
            [Scenario.PsqlCopy, Scenario.SinkBaseline, Scenario.Sink, Scenario.SinkUpsertBaseline, Scenario.SinkUpsert, Scenario.SinkFanOut],
            Runner.InAlternatingOrder(scenarios, repetition: 2));
        Assert.Equal(scenarios, Runner.InAlternatingOrder(scenarios, repetition: 3));
    }

    [Fact]
    public void The_upsert_baseline_is_verified_and_compared_as_an_upsert()
    {
        Assert.True(Scenario.IsUpsert(Scenario.SinkUpsertBaseline));
        Assert.False(Scenario.IsUpsert(Scenario.SinkBaseline));
        Assert.Equal(Scenario.SinkUpsert, Scenario.CurrentOf(Scenario.SinkUpsertBaseline));
        Assert.Equal(Scenario.Sink, Scenario.CurrentOf(Scenario.SinkBaseline));
        Assert.True(Scenario.IsSinkProcess(Scenario.SinkFanOut) && Scenario.IsSinkProcess(Scenario.SinkBaseline));
    }
}
