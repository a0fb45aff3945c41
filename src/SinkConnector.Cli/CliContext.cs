using System.CommandLine;
using Microsoft.Extensions.Logging;
using SinkConnector.Configuration;
using SinkConnector.Configuration.Loading;
using SinkConnector.Failures;
using SinkConnector.Mapping.SchemaColumns;
using SinkConnector.Registry;
using SinkConnector.Schema;
using SinkConnector.Writing;

namespace SinkConnector.Cli;

/// <summary>What every command shares: the --config option, loading it, and turning failures into exit codes.</summary>
public static class CliContext
{
    public static Option<string?> ConfigOption() => new("--config")
    {
        Description = "Configuration directory (sink.yaml and mappings/). Defaults to $SINK_CONFIG.",
    };

    /// <summary>Loads the configuration and runs <paramref name="body"/>, mapping errors to exit codes 2 and 1.</summary>
    /// <param name="environment">Looks up <c>${NAME}</c> references; the process environment by default.</param>
    /// <param name="checkClients">False for a command that connects to nothing (see <see cref="ConfigLoader.Load"/>).</param>
    public static async Task<int> RunAsync(
        ParseResult parse, Option<string?> configOption, Func<SinkConfig, CancellationToken, Task<int>> body, CancellationToken cancellationToken,
        Func<string, string?>? environment = null, bool checkClients = true)
    {
        var directory = parse.GetValue(configOption) ?? Environment.GetEnvironmentVariable("SINK_CONFIG");
        if (string.IsNullOrEmpty(directory))
        {
            await Console.Error.WriteLineAsync("sink: --config DIR is required (or set SINK_CONFIG)");
            return ExitCodes.Usage;
        }

        SinkConfig config;
        try
        {
            config = ConfigLoader.Load(directory, environment, checkClients);
        }
        catch (ConfigException e)
        {
            foreach (var error in e.Errors)
            {
                await Console.Error.WriteLineAsync(error.ToString());
            }

            return ExitCodes.Usage;
        }

        try
        {
            return await body(config, cancellationToken);
        }
        catch (ConfigException e)
        {
            // Found after loading: columns from the schema that the registry's schema does not give.
            foreach (var error in e.Errors)
            {
                await Console.Error.WriteLineAsync(error.ToString());
            }

            return ExitCodes.Usage;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Failure;
        }
        catch (Exception e) when (IsExpected(e))
        {
            // Expected failures: the message says what to fix.
            await Console.Error.WriteLineAsync($"sink: {ConnectorSchema.Explain(e, config.Connector) ?? ExceptionMessages.Chain(e, " -> ")}");
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Anything else is a bug: keep the stack trace for the report.
            await Console.Error.WriteLineAsync($"sink: unexpected failure: {e}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>
    /// The configuration with the columns of <c>columns_from_schema</c> mappings read from the registry's newest
    /// schemas (as <c>sink run</c> derives them at startup); the configuration itself when no mapping has them.
    /// </summary>
    /// <param name="fitToTables">
    /// Leave out optional fields an existing table has no column for when the mapping has no auto_evolve, as
    /// <c>sink run</c> does; false for <c>sink tables</c>, which shows (and adds) them.
    /// </param>
    public static async Task<SinkConfig> ResolveSchemaColumnsAsync(SinkConfig config, CancellationToken cancellationToken, bool fitToTables = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Connector.SchemaRegistry is not { } registry || !config.Mappings.Any(m => m.ColumnsFromSchema))
        {
            return config;
        }

        using var schemas = SchemaRegistryClients.Create(registry);
        var mappings = await SchemaColumnResolver.ResolveAsync(config.Mappings, schemas, cancellationToken);
        if (!fitToTables)
        {
            return config with { Mappings = mappings };
        }

        await using var database = new SinkDatabase(config.Connector.Postgres);
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        return config with { Mappings = await SchemaColumnsFit.ToTablesAsync(connection, mappings, cancellationToken) };
    }

    /// <summary>
    /// The config with each topics_regex mapping replaced by its mappings of the topics that exist now (asks Kafka
    /// only when there is such a mapping): what `tables` and `validate` plan and check.
    /// </summary>
    public static SinkConfig WithExistingTopics(SinkConfig config)
    {
        if (!config.Mappings.Any(m => m.TopicsRegex is not null))
        {
            return config;
        }

        using var kafka = new Kafka.TopicInspector(config.Connector);
        return config with { Mappings = config.Mappings.ForExistingTopics(kafka.TopicNames()) };
    }

    /// <summary>Prints every incompatibility between the mappings and their target tables to stderr; returns how many.</summary>
    public static async Task<int> ReportTableProblemsAsync(SinkDatabase database, SinkConfig config, CancellationToken cancellationToken)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        var problems = 0;
        foreach (var mapping in config.Mappings)
        {
            foreach (var error in await TableInspector.CheckAsync(connection, mapping, cancellationToken))
            {
                await Console.Error.WriteLineAsync(error.ToString());
                problems++;
            }
        }

        return problems;
    }

    /// <summary>
    /// For mappings with a table template: the element types of their enum[] and citext[] columns, by name, before the
    /// first batch encodes rows for tables that do not exist yet. Prints each problem to stderr; returns how many.
    /// </summary>
    public static async Task<int> ReportTemplatedElementTypesAsync(SinkDatabase database, SinkConfig config, CancellationToken cancellationToken)
    {
        var templated = config.Mappings.Where(m => m.TableTemplate is not null && ElementOidResolver.Needs(m)).ToList();
        if (templated.Count == 0)
        {
            return 0;
        }

        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        var problems = 0;
        foreach (var mapping in templated)
        {
            foreach (var error in await ElementOidResolver.ByNameAsync(connection, mapping, cancellationToken))
            {
                await Console.Error.WriteLineAsync(error.ToString());
                problems++;
            }
        }

        return problems;
    }

    /// <summary>
    /// Failures an operator can fix from the message: also when wrapped, as EF Core wraps a refused connection in an
    /// InvalidOperationException ("likely due to a transient failure").
    /// </summary>
    private static bool IsExpected(Exception e) =>
        PostgresErrors.Classify(e) != PostgresFailure.None
        || e is SinkStoppedException or ConfigException or Confluent.Kafka.KafkaException or SchemaRegistryUnavailableException
        || e.InnerException is { } inner && IsExpected(inner);

    /// <summary>The values <c>SINK_LOG_FORMAT</c> accepts; the first is the default.</summary>
    private static readonly string[] s_logFormats = ["text", "json"];

    /// <summary>
    /// Reads <c>SINK_LOG_LEVEL</c> (default Information) and <c>SINK_LOG_FORMAT</c> (default text); null, with the
    /// reason and the allowed values in <paramref name="error"/>, when either is set to something else.
    /// </summary>
    public static (LogLevel Level, bool Json)? ReadLogSettings(out string? error)
    {
        error = null;
        var level = LogLevel.Information;
        var levelText = Environment.GetEnvironmentVariable("SINK_LOG_LEVEL");
        // Enum.TryParse also takes numbers and comma lists: only the names are accepted.
        if (!string.IsNullOrWhiteSpace(levelText) &&
            !(Enum.GetNames<LogLevel>().Contains(levelText.Trim(), StringComparer.OrdinalIgnoreCase) && Enum.TryParse(levelText.Trim(), true, out level)))
        {
            error = $"SINK_LOG_LEVEL: '{levelText}' is not a log level; use one of {string.Join(", ", Enum.GetNames<LogLevel>())}";
            return null;
        }

        var format = Environment.GetEnvironmentVariable("SINK_LOG_FORMAT");
        if (!string.IsNullOrWhiteSpace(format) && !s_logFormats.Contains(format.Trim(), StringComparer.OrdinalIgnoreCase))
        {
            error = $"SINK_LOG_FORMAT: '{format}' is not a log format; use one of {string.Join(", ", s_logFormats)}";
            return null;
        }

        return (level, string.Equals(format?.Trim(), "json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Console logging: one line per event, or one JSON object per line with <c>SINK_LOG_FORMAT=json</c> (for log
    /// shippers: the message template's values are separate fields). Both stamp each event in ISO-8601 UTC.
    /// </summary>
    public static void ConfigureLogging(ILoggingBuilder builder, (LogLevel Level, bool Json) settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ClearProviders();
        if (settings.Json)
        {
            builder.AddJsonConsole(o =>
            {
                o.TimestampFormat = CliTime.Format;
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = CliTime.Format + " ";
                o.UseUtcTimestamp = true;
            });
        }

        builder.SetMinimumLevel(settings.Level);
        // The host's and Kestrel's routine lines (started, listening, request handled) are not the sink's events;
        // their warnings and errors still show.
        var framework = settings.Level > LogLevel.Warning ? settings.Level : LogLevel.Warning;
        builder.AddFilter("Microsoft", framework);
        builder.AddFilter("System", framework);
    }
}
