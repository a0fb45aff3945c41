using System.Diagnostics.CodeAnalysis;
using SinkConnector.Testing;

/// <summary>
/// A .NET startup hook: started with <c>DOTNET_STARTUP_HOOKS=&lt;path&gt;/SinkConnector.Testing.dll</c>, another app
/// (the published <c>sink</c>) runs this before its own Main and prints which librdkafka Confluent.Kafka loads in
/// that app's folder and environment, and that build's features, as one line starting with <see cref="Prefix"/>.
/// The runtime finds the hook by this exact type name, in no namespace.
/// </summary>
[SuppressMessage("Design", "CA1050:Declare types in namespaces", Justification = "The runtime looks the startup hook up by its global name.")]
internal static class StartupHook
{
    public const string Prefix = "librdkafka probe:";

    public static void Initialize() =>
        Console.WriteLine($"{Prefix} version={Confluent.Kafka.Library.VersionString} path={LoadedLibrdkafka.Path} builtin.features={string.Join(',', LoadedLibrdkafka.BuiltinFeatures())}");
}
