using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;

namespace SinkConnector.Testing;

/// <summary>
/// A Confluent Schema Registry stand-in on a loopback port, because no registry server can be installed here. It
/// serves the REST calls the Confluent clients (serializers and CachedSchemaRegistryClient, 2.16) make: register
/// (POST /subjects/{s}/versions), look up (POST /subjects/{s}), schema by id (GET /schemas/ids/{id}), versions of a
/// subject (GET /subjects/{s}/versions[/{v}|/latest]), the compatibility config, and 404 for /associations/... and
/// everything else, with the registry's error bodies ({"error_code": 40403, "message": ...}). Schema ids are global:
/// the same schema text and type under any subject has one id, as in the real registry. <see cref="Reachable"/> false
/// closes the port (connection refused), the way an outage looks to a client. Hosting (HTTP or HTTPS) is in
/// SchemaRegistryStandIn.Hosting.cs.
/// </summary>
public sealed partial class SchemaRegistryStandIn : IAsyncDisposable
{
    private const string ContentType = "application/vnd.schemaregistry.v1+json";

    private readonly object _lock = new();
    private readonly List<(string Text, string Type)> _schemas = [];
    private readonly Dictionary<string, List<int>> _subjects = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly ConcurrentQueue<string> _unrouted = new();

    private SchemaRegistryStandIn(int port, StandInTls? tls)
    {
        _port = port;
        _tls = tls;
        Url = $"{(tls is null ? "http" : "https")}://127.0.0.1:{port}";
    }

    /// <summary>The base URL clients are configured with (<c>schema.registry.url</c>).</summary>
    public string Url { get; }

    /// <summary>Every request served so far, as "METHOD /path?query" in arrival order.</summary>
    public IReadOnlyCollection<string> Requests => _requests;

    /// <summary>Requests it answered 404 because it does not implement them (other than /associations): what a client needs that is missing.</summary>
    public IReadOnlyCollection<string> Unrouted => _unrouted;

    public static SchemaRegistryStandIn Start() => Start(null);

    /// <summary>Serves HTTPS with <paramref name="tls"/>'s certificate (and asks clients for one if it says so); null: plain HTTP.</summary>
    public static SchemaRegistryStandIn Start(StandInTls? tls)
    {
        var registry = new SchemaRegistryStandIn(LocalPorts.Free(), tls);
        registry.Listen();
        return registry;
    }

    /// <summary>Set: every request is answered with this status (e.g. 401, as for wrong credentials); null: served normally.</summary>
    public HttpStatusCode? RefuseWith { get; set; }

    /// <summary>False closes the listening port (connection refused); true opens it again on the same port, schemas kept.</summary>
    public bool Reachable
    {
        get
        {
            lock (_lock)
            {
                return _app is not null;
            }
        }

        set
        {
            if (value)
            {
                Listen();
            }
            else
            {
                Close();
            }
        }
    }

    /// <summary>Registers a schema directly (as a producer would), returning its id.</summary>
    public int Register(string subject, string schema, string schemaType = "AVRO")
    {
        lock (_lock)
        {
            return RegisterLocked(subject, schema, schemaType);
        }
    }

    private (HttpStatusCode, JsonNode) Route(string method, string[] path, string body, string? format = null)
    {
        lock (_lock)
        {
            return (method, path) switch
            {
                ("POST", ["subjects", var subject, "versions"]) => RegisterFromBody(subject, body),
                ("POST", ["subjects", var subject]) => LookUp(subject, body),
                ("GET", ["schemas", "ids", var id]) => SchemaById(id, format),
                ("GET", ["subjects"]) => (HttpStatusCode.OK, new JsonArray([.. _subjects.Keys.Select(k => JsonValue.Create(k))])),
                ("GET", ["subjects", var subject, "versions"]) => _subjects.TryGetValue(subject, out var ids)
                    ? (HttpStatusCode.OK, new JsonArray([.. Enumerable.Range(1, ids.Count).Select(v => JsonValue.Create(v))]))
                    : NotFound(40401, $"Subject '{subject}' not found."),
                ("GET", ["subjects", var subject, "versions", var version]) => Version(subject, version),
                ("GET", ["config"] or ["config", _]) => (HttpStatusCode.OK, new JsonObject { ["compatibilityLevel"] = "BACKWARD" }),
                (_, ["associations", ..]) => NotFound(404, "HTTP 404 Not Found"),
                _ => NotImplemented(method, path),
            };
        }
    }

    private (HttpStatusCode, JsonNode) NotImplemented(string method, string[] path)
    {
        _unrouted.Enqueue($"{method} /{string.Join('/', path)}");
        return NotFound(404, $"HTTP 404 Not Found: {method} /{string.Join('/', path)}");
    }

    private (HttpStatusCode, JsonNode) RegisterFromBody(string subject, string body)
    {
        var (schema, type) = ReadSchema(body);
        var id = RegisterLocked(subject, schema, type);
        return (HttpStatusCode.OK, Registered(subject, id));
    }

    private (HttpStatusCode, JsonNode) LookUp(string subject, string body)
    {
        var (schema, type) = ReadSchema(body);
        var id = _schemas.IndexOf((schema, type)) + 1;
        return id > 0 && _subjects.TryGetValue(subject, out var ids) && ids.Contains(id)
            ? (HttpStatusCode.OK, Registered(subject, id))
            : NotFound(40403, "Schema not found");
    }

    private (HttpStatusCode, JsonNode) SchemaById(string text, string? format = null)
    {
        if (!int.TryParse(text, out var id) || id < 1 || id > _schemas.Count)
        {
            return NotFound(40403, "Schema " + text + " not found");
        }

        var (schema, type) = _schemas[id - 1];
        var answer = new JsonObject { ["schema"] = schema };
        if (type != "AVRO")
        {
            // The registry leaves schemaType out for Avro, its default.
            answer["schemaType"] = type;
        }

        AddProtobufParts(id, answer, format);
        return (HttpStatusCode.OK, answer);
    }

    private (HttpStatusCode, JsonNode) Version(string subject, string version)
    {
        if (!_subjects.TryGetValue(subject, out var ids))
        {
            return NotFound(40401, $"Subject '{subject}' not found.");
        }

        var index = version == "latest" ? ids.Count : int.TryParse(version, out var v) ? v : 0;
        return index >= 1 && index <= ids.Count
            ? (HttpStatusCode.OK, Registered(subject, ids[index - 1]))
            : NotFound(40402, "Version " + version + " not found.");
    }

    private int RegisterLocked(string subject, string schema, string type)
    {
        var id = _schemas.IndexOf((schema, type)) + 1;
        if (id == 0)
        {
            _schemas.Add((schema, type));
            id = _schemas.Count;
        }

        if (!_subjects.TryGetValue(subject, out var ids))
        {
            _subjects[subject] = ids = [];
        }

        if (!ids.Contains(id))
        {
            ids.Add(id);
        }

        return id;
    }

    private JsonObject Registered(string subject, int id)
    {
        var (schema, type) = _schemas[id - 1];
        var answer = new JsonObject
        {
            ["subject"] = subject,
            ["id"] = id,
            ["version"] = _subjects[subject].IndexOf(id) + 1,
            ["schemaType"] = type,
            ["schema"] = schema,
        };
        AddProtobufParts(id, answer, format: null);
        return answer;
    }

    private static (string Schema, string Type) ReadSchema(string body)
    {
        var json = JsonNode.Parse(body)!;
        return (json["schema"]!.GetValue<string>(), json["schemaType"]?.GetValue<string>() ?? "AVRO");
    }

    private static (HttpStatusCode, JsonNode) NotFound(int code, string message) =>
        (HttpStatusCode.NotFound, new JsonObject { ["error_code"] = code, ["message"] = message });

    public async ValueTask DisposeAsync() => await CloseAsync();
}
