using System.Collections.Concurrent;
using System.Net;
using Confluent.SchemaRegistry;
using SinkConnector.Failures;

namespace SinkConnector.Registry;

/// <summary>A schema the registry holds: its id, type (AVRO, JSON, PROTOBUF) and text.</summary>
public sealed record RegistrySchema(int Id, string Type, string Text)
{
    /// <summary>PROTOBUF only: the files it is built from, as the registry serves them (see <see cref="ProtobufSchemaFiles"/>).</summary>
    public IReadOnlyList<ProtobufFile>? ProtobufFiles { get; init; }
}

/// <summary>
/// Schemas by id from the registry, each fetched once: the Confluent client (<see cref="CachedSchemaRegistryClient"/>)
/// keeps what it fetched, and this keeps what each id decodes with (<see cref="GetParsed{T}"/>), so a message costs
/// a dictionary lookup. An id the registry does not know is the message's problem (null: a dead letter); a registry
/// that does not answer is not (<see cref="SchemaRegistryUnavailableException"/>: retried, never dead-lettered).
/// </summary>
public sealed class SchemaSource(ISchemaRegistryClient client) : IDisposable
{
    /// <summary>How long an id the registry answered "not found" for is not asked again: a stream of messages with a bad id costs one request per this period, not one per message.</summary>
    public static readonly TimeSpan UnknownIdRetention = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<(int Id, Type Parsed), object> _parsed = new();
    private readonly ConcurrentDictionary<int, long> _unknownSince = new();
    private readonly ConcurrentDictionary<int, RegistrySchema> _fetched = new();

    /// <summary>The schema of <paramref name="id"/>, or null if the registry does not have it.</summary>
    /// <remarks>
    /// Blocks the calling thread on the first fetch of an id that <see cref="FetchAsync"/> has not fetched: the batch
    /// conversion fetches a chunk's ids with it first, so only the operator commands (dlq replay) wait here.
    /// </remarks>
    public RegistrySchema? Get(int id)
    {
        if (_fetched.TryGetValue(id, out var fetched))
        {
            return fetched;
        }

        return IsKnownUnknown(id) ? null : FetchAsync(id, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>
    /// Fetches the schemas of <paramref name="ids"/> not fetched yet, without blocking a thread, so that
    /// <see cref="Get"/> and <see cref="GetParsed{T}"/> find them. An id the registry does not have is remembered as
    /// such (for <see cref="UnknownIdRetention"/>); a registry that does not answer throws
    /// <see cref="SchemaRegistryUnavailableException"/>, as <see cref="Get"/> does.
    /// </summary>
    public async Task FetchAsync(IEnumerable<int> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        foreach (var id in ids)
        {
            if (!_fetched.ContainsKey(id) && !IsKnownUnknown(id))
            {
                await FetchAsync(id, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private bool IsKnownUnknown(int id) =>
        _unknownSince.TryGetValue(id, out var since) && Environment.TickCount64 - since < UnknownIdRetention.TotalMilliseconds;

    private async Task<RegistrySchema?> FetchAsync(int id, CancellationToken cancellationToken)
    {
        try
        {
            var schema = await client.GetSchemaAsync(id).WaitAsync(cancellationToken).ConfigureAwait(false);
            var fetched = new RegistrySchema(id, schema.SchemaType.ToString().ToUpperInvariant(), schema.SchemaString);
            if (schema.SchemaType == SchemaType.Protobuf)
            {
                fetched = fetched with { ProtobufFiles = await ProtobufSchemaFiles.FetchAsync(client, id, schema.References, cancellationToken).ConfigureAwait(false) };
            }

            _unknownSince.TryRemove(id, out _);
            return _fetched.GetOrAdd(id, fetched);
        }
        catch (SchemaRegistryException e) when (e.ErrorCode == 40403 || e.Status == HttpStatusCode.NotFound)
        {
            _unknownSince[id] = Environment.TickCount64;
            return null;
        }
        catch (SchemaRegistryException e)
        {
            // Refused rather than unknown (401/403: credentials, 5xx): every message would fail alike. Waiting and
            // retrying like an outage loses nothing, and the retry warnings name the cause until someone fixes it.
            throw new SchemaRegistryUnavailableException(
                $"the schema registry refused the request for schema id {id} (HTTP {(int)e.Status}, error {e.ErrorCode}: {e.Message}); " +
                "check schema_registry's url and credentials", e);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new SchemaRegistryUnavailableException($"the schema registry did not answer for schema id {id}: {ExceptionMessages.Chain(e, ": ")}", e);
        }
    }

    /// <summary>
    /// The newest schema registered under <paramref name="subject"/> (columns from the schema are derived from it at
    /// startup), or null if the subject does not exist. Throws <see cref="SchemaRegistryUnavailableException"/> like <see cref="Get"/>.
    /// </summary>
    public async Task<RegistrySchema?> GetLatestAsync(string subject, CancellationToken cancellationToken)
    {
        try
        {
            var schema = await client.GetLatestSchemaAsync(subject).WaitAsync(cancellationToken);
            return new RegistrySchema(schema.Id, schema.SchemaType.ToString().ToUpperInvariant(), schema.SchemaString);
        }
        catch (SchemaRegistryException e) when (e.ErrorCode is 40401 or 40402 || e.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (SchemaRegistryException e)
        {
            throw new SchemaRegistryUnavailableException(
                $"the schema registry refused the request for subject {subject} (HTTP {(int)e.Status}, error {e.ErrorCode}: {e.Message}); " +
                "check schema_registry's url and credentials", e);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw new SchemaRegistryUnavailableException($"the schema registry did not answer for subject {subject}: {ExceptionMessages.Chain(e, ": ")}", e);
        }
    }

    /// <summary>
    /// What <paramref name="parse"/> makes of schema <paramref name="id"/>, made once per id; null if the registry does
    /// not have it. A parse that throws is not kept: the message that needed it reports the error.
    /// </summary>
    public T? GetParsed<T>(int id, Func<RegistrySchema, T> parse)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(parse);
        if (_parsed.TryGetValue((id, typeof(T)), out var known))
        {
            return (T)known;
        }

        if (Get(id) is not { } schema)
        {
            return null;
        }

        return (T)_parsed.GetOrAdd((id, typeof(T)), parse(schema));
    }

    public void Dispose() => client.Dispose();
}
