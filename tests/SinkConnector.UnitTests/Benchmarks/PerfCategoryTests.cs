using SinkConnector.Benchmarks;

namespace SinkConnector.UnitTests.Benchmarks;

/// <summary>How <c>--perf</c> puts a sample of the sink under a category (frames as `perf script` prints them, leaf first).</summary>
public sealed class PerfCategoryTests
{
    private const string Loop = "consumer loop: Engine (poll, accept, allocation/GC under it)";
    private const string Publish = "/work/bin/sink-publish/";

    private static (string, string) Runtime => ("[unknown]", "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/libcoreclr.so");

    private static (string, string) ReadyToRun => ("[unknown]", Publish + "SinkConnector.dll");

    private static (string, string) Continuation(string box) =>
        ($"void [System.Private.CoreLib] System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1+AsyncStateMachineBox`1[{box}]::ExecutionContextCallback(object)[OptimizedTier1]", "/tmp/perf-42.map");

    [Fact]
    public void The_loop_resumed_after_waiting_for_a_write_counts_as_the_consumer_loop_not_batch_bookkeeping()
    {
        // Seen in a profile of main: 280 of the 376 "batch bookkeeping" samples had this frame as their first named one.
        var sample = (".NET TP Worker", new List<(string, string)>
        {
            Runtime, Runtime, ReadyToRun,
            Continuation("System.Boolean,SinkConnector.Engine.WritePipeline+<OldestFinishesWithinAsync>d__27"),
        });

        Assert.Equal(Loop, PerfProfile.Categorize(sample));
    }

    [Fact]
    public void The_write_task_and_linq_still_count_as_batch_bookkeeping_and_a_named_leaf_wins_over_the_loop()
    {
        var write = (".NET TP Worker", new List<(string, string)>
        {
            Runtime, Continuation("System.__Canon,SinkConnector.Engine.BatchTransaction+<WriteAsync>d__4"),
        });
        var consume = (".NET TP Worker", new List<(string, string)>
        {
            Runtime,
            ("instance class Confluent.Kafka.ConsumeResult`2<!0,!1> [Confluent.Kafka] Confluent.Kafka.Consumer`2[System.__Canon,System.__Canon]::Consume(int32)[OptimizedTier1]", "/tmp/perf-42.map"),
            Continuation("System.Threading.Tasks.VoidTaskResult,SinkConnector.Engine.ConsumerLoop+<ConsumeUntilStoppedAsync>d__22"),
        });

        Assert.Equal("batch bookkeeping: WriteBatch, LINQ grouping, offsets SQL", PerfProfile.Categorize(write));
        Assert.Equal("Confluent.Kafka Consume (marshalling to .NET)", PerfProfile.Categorize(consume));
        Assert.Equal(Loop, PerfProfile.Categorize((".NET TP Worker", [Runtime, consume.Item2[2]])));
    }
}
