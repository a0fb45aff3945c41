using Npgsql;

namespace SinkConnector.Configuration.Loading;

/// <summary>
/// Converts the libpq URI form, <c>postgresql://user:password@host:port/database?sslmode=require</c>, into the
/// keyword form Npgsql reads. Operators copy URIs from cloud consoles and other tools; Npgsql does not parse them.
/// </summary>
internal static class PostgresUri
{
    /// <summary>libpq query parameters and the Npgsql keyword each becomes.</summary>
    private static readonly Dictionary<string, string> s_parameters = new(StringComparer.Ordinal)
    {
        ["host"] = "Host",
        ["port"] = "Port",
        ["dbname"] = "Database",
        ["user"] = "Username",
        ["password"] = "Password",
        ["application_name"] = "Application Name",
        ["connect_timeout"] = "Timeout",
        ["options"] = "Options",
        ["sslmode"] = "SSL Mode",
        ["sslrootcert"] = "Root Certificate",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["sslpassword"] = "SSL Password",
        ["channel_binding"] = "Channel Binding",
        ["target_session_attrs"] = "Target Session Attributes",
    };

    // libpq spells these with dashes, Npgsql's enums without.
    private static readonly Dictionary<string, string> s_sslModes = new(StringComparer.Ordinal)
    {
        ["disable"] = "Disable",
        ["allow"] = "Allow",
        ["prefer"] = "Prefer",
        ["require"] = "Require",
        ["verify-ca"] = "VerifyCA",
        ["verify-full"] = "VerifyFull",
    };

    public static bool IsUri(string text) =>
        text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Converts <paramref name="uri"/>; on failure <paramref name="error"/> says why without quoting the URI (it may hold a password).</summary>
    public static bool TryConvert(string uri, out string? connectionString, out string? error)
    {
        connectionString = null;
        error = null;
        var rest = uri[(uri.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var builder = new NpgsqlConnectionStringBuilder();
        try
        {
            var query = "";
            var questionMark = rest.IndexOf('?', StringComparison.Ordinal);
            if (questionMark >= 0)
            {
                query = rest[(questionMark + 1)..];
                rest = rest[..questionMark];
            }

            // The password may contain '@' only percent-encoded, so the last '@' ends the user part.
            var at = rest.LastIndexOf('@');
            if (at >= 0)
            {
                var userInfo = rest[..at];
                rest = rest[(at + 1)..];
                var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
                Set(builder, "Username", Decode(colon < 0 ? userInfo : userInfo[..colon]));
                if (colon >= 0)
                {
                    Set(builder, "Password", Decode(userInfo[(colon + 1)..]));
                }
            }

            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var hosts = Decode(slash < 0 ? rest : rest[..slash]);
            Set(builder, "Database", slash < 0 ? "" : Decode(rest[(slash + 1)..]));
            SetHosts(builder, hosts);

            foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                var name = Decode(equals < 0 ? pair : pair[..equals]);
                var value = equals < 0 ? "" : Decode(pair[(equals + 1)..]);
                if (!s_parameters.TryGetValue(name, out var keyword))
                {
                    error = $"URI parameter '{name}' is not supported (supported: {string.Join(", ", s_parameters.Keys)}); or write the connection string as Host=...;Database=...";
                    return false;
                }

                Set(builder, keyword, keyword == "SSL Mode" && s_sslModes.TryGetValue(value, out var mode) ? mode : value);
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException or OverflowException or UriFormatException)
        {
            error = $"the postgresql:// URI is not valid: {e.Message}";
            return false;
        }

        connectionString = builder.ConnectionString;
        return true;
    }

    /// <summary>One host:port becomes Host and Port; several stay host:port pairs, comma-separated, which Npgsql reads as libpq does.</summary>
    private static void SetHosts(NpgsqlConnectionStringBuilder builder, string hosts)
    {
        if (hosts.Contains(',', StringComparison.Ordinal))
        {
            Set(builder, "Host", hosts);
            return;
        }

        // [IPv6]:port, or host:port.
        var close = hosts.StartsWith('[') ? hosts.IndexOf(']', StringComparison.Ordinal) : -1;
        var colon = hosts.IndexOf(':', close + 1);
        var host = colon < 0 ? hosts : hosts[..colon];
        Set(builder, "Host", close > 0 ? host[1..close] : host);
        if (colon >= 0)
        {
            Set(builder, "Port", hosts[(colon + 1)..]);
        }
    }

    private static void Set(NpgsqlConnectionStringBuilder builder, string keyword, string value)
    {
        if (value.Length > 0)
        {
            builder[keyword] = value;
        }
    }

    private static string Decode(string text) => Uri.UnescapeDataString(text);
}
