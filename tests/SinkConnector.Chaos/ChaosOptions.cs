using System.Globalization;

namespace SinkConnector.Chaos;

/// <summary>
/// The soak's command line. Seed, duration and rate decide the produced sequence and the fault schedule completely;
/// the report prints them as the command that reproduces the run.
/// </summary>
internal sealed record ChaosOptions(int Seed, TimeSpan Duration, int Rate, string? ArtifactsDirectory, KafkaOption Kafka = KafkaOption.Auto)
{
    public const string Usage = """
        usage: eng/chaos.sh [--seed N] [--duration SECONDS] [--rate MESSAGES_PER_SECOND] [--kafka mock|broker] [--artifacts DIR]
          --seed N          seeds the produced sequence and the fault schedule (default: random, printed)
          --duration S      seconds of producing under faults (default 300; CI: 60)
          --rate R          messages per second over both topics (default 300)
          --kafka K         broker: a throwaway Apache Kafka broker from KAFKA_HOME (stopped, killed and started again
                            by the faults); mock: librdkafka's mock cluster (request errors, broker down/up).
                            Default: broker when KAFKA_HOME is set (eng/chaos.sh sets it to ../shared/kafka's), else mock
          --artifacts DIR   keep the report and every sink's log there (default: a temp folder, removed on PASS)
        exit code: 0 PASS, 1 FAIL, 2 usage
        """;

    /// <summary>Parses <paramref name="args"/>; null options and no error means --help.</summary>
    public static bool TryParse(string[] args, out ChaosOptions? options, out string? error)
    {
        options = null;
        error = null;
        var seed = Random.Shared.Next();
        var seconds = 300;
        var rate = 300;
        string? artifacts = null;
        var kafka = KafkaOption.Auto;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--help" or "-h":
                    return true;
                case "--seed" when int.TryParse(value, CultureInfo.InvariantCulture, out seed):
                case "--duration" when int.TryParse(value, CultureInfo.InvariantCulture, out seconds) && seconds >= 20:
                case "--rate" when int.TryParse(value, CultureInfo.InvariantCulture, out rate) && rate is >= 10 and <= 5_000:
                case "--artifacts" when !string.IsNullOrWhiteSpace(artifacts = value):
                case "--kafka" when value is "mock" or "broker" && Enum.TryParse(value, ignoreCase: true, out kafka):
                    i++;
                    break;
                default:
                    error = $"invalid argument '{args[i]}'{(value is null ? "" : $" '{value}'")}";
                    return false;
            }
        }

        options = new ChaosOptions(seed, TimeSpan.FromSeconds(seconds), rate, artifacts, kafka);
        return true;
    }

    /// <summary>The command that produces the same sequence and the same fault schedule (which depends on the Kafka used).</summary>
    public string ReproduceCommand(SinkConnector.Testing.KafkaSource kafka) =>
        $"eng/chaos.sh --seed {Seed} --duration {(int)Duration.TotalSeconds}" + (Rate == 300 ? "" : $" --rate {Rate}") + $" {SoakKafka.Flag(kafka)}";
}
