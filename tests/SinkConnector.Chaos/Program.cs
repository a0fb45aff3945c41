using SinkConnector.Chaos;

// The chaos soak (docs/chaos.md): eng/chaos.sh [--seed N] [--duration SECONDS]. Exit 0 only on PASS.
if (!ChaosOptions.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(ChaosOptions.Usage);
    return 2;
}

if (options is null)
{
    Console.WriteLine(ChaosOptions.Usage);
    return 0;
}

return await ChaosRun.RunAsync(options);
