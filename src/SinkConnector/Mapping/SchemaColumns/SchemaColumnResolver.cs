using SinkConnector.Configuration;
using SinkConnector.Registry;

namespace SinkConnector.Mapping.SchemaColumns;

/// <summary>
/// Gives mappings with <c>columns_from_schema</c> their columns, from the newest value schema of the first topic's
/// subject (TopicNameStrategy, <c>&lt;topic&gt;-value</c>), and an upsert mapping without <c>key</c> the fields of the
/// key schema (<c>&lt;topic&gt;-key</c>). Done at startup: the registry must answer then.
/// </summary>
public static class SchemaColumnResolver
{
    /// <summary>The mappings, those with columns from the schema resolved.</summary>
    /// <exception cref="ConfigException">A subject is missing or a schema gives no columns; every such mapping is listed.</exception>
    /// <exception cref="Failures.SchemaRegistryUnavailableException">The registry did not answer (wait and call again).</exception>
    public static async Task<IReadOnlyList<MappingConfig>> ResolveAsync(IReadOnlyList<MappingConfig> mappings, SchemaSource schemas, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mappings);
        ArgumentNullException.ThrowIfNull(schemas);
        var errors = new List<ConfigError>();
        var resolved = new List<MappingConfig>();
        foreach (var mapping in mappings)
        {
            if (!mapping.ColumnsFromSchema || mapping.SchemaColumns is not null)
            {
                resolved.Add(mapping);
                continue;
            }

            try
            {
                resolved.Add(await ResolveAsync(mapping, schemas, cancellationToken));
            }
            catch (FormatException e)
            {
                errors.Add(new ConfigError(mapping.File, "columns", e.Message));
            }
        }

        return errors.Count > 0 ? throw new ConfigException(errors) : resolved;
    }

    private static async Task<MappingConfig> ResolveAsync(MappingConfig mapping, SchemaSource schemas, CancellationToken cancellationToken)
    {
        var subject = mapping.Topics[0] + "-value";
        var latest = await schemas.GetLatestAsync(subject, cancellationToken)
            ?? throw new FormatException($"columns come from the schema of subject '{subject}', which is not in the schema registry; produce to the topic first, or list the columns");
        var fields = SchemaFields.Of(latest, mapping.Format);
        IReadOnlyList<SchemaField> keyFields = [];
        if (mapping.Mode == WriteMode.Upsert)
        {
            var keySubject = mapping.Topics[0] + "-key";
            if (await schemas.GetLatestAsync(keySubject, cancellationToken) is { } keySchema)
            {
                try
                {
                    keyFields = SchemaFields.Of(keySchema, MessageFormat.Json);
                }
                catch (FormatException) when (mapping.Key.Count > 0)
                {
                    // A primitive key (a string, a long) with the key columns listed: nothing to take from it.
                }
            }
            else if (mapping.Key.Count == 0)
            {
                throw new FormatException($"mode upsert takes its key from the fields of subject '{keySubject}', which is not in the schema registry; list key: [...]");
            }
        }

        return SchemaColumnDerivation.Derive(mapping, fields, keyFields, new SchemaColumnSource(subject, latest.Id, new HashSet<string>(StringComparer.Ordinal)));
    }
}
