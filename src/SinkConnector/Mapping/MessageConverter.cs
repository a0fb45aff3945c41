using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Failures;
using SinkConnector.Mapping.Conversion;
using SinkConnector.Mapping.Encodings;
using SinkConnector.Mapping.Routing;
using SinkConnector.PgBinary;
using SinkConnector.Registry;

namespace SinkConnector.Mapping;

/// <summary>
/// Turns a Kafka message into the column values of one row of a mapping, as the CLR types Npgsql's binary COPY
/// writes for each column type (null for SQL NULL). Built once per mapping: the constructor resolves every column's
/// source, converter and default, and throws <see cref="ArgumentException"/> for a mapping it cannot run (which is how
/// config validation checks defaults). Stateless per call, so one instance may be used from several threads.
/// </summary>
public sealed partial class MessageConverter
{
    private readonly ColumnPlan[] _plans;
    private readonly MessageFormat _format;
    private readonly JsonFieldIndex? _valueFields;
    private readonly PayloadDecoder? _decoder;
    private readonly MessageFilter? _filter;

    // For deletes: where each key column is read when the row image does not have it (a tombstone has no value).
    private readonly int[] _keyIndexes;
    private readonly ColumnPlan?[] _keyFallbacks;
    private readonly ColumnPlan?[] _wholeKeyFallbacks;

    // Mode upsert: the newer_by column, which a delete also carries when it can (-1: none); the columns in which
    // Debezium's unavailable-value placeholder keeps the stored value (null: none).
    private readonly int _newerBy;
    private readonly bool[]? _unavailable;

    /// <param name="schemas">Where schemas of registry-encoded keys and values come from; needed by mappings with such an encoding.</param>
    public MessageConverter(MappingConfig mapping, SchemaSource? schemas = null)
        : this(mapping, singlePass: true, schemas)
    {
    }

    /// <param name="singlePass">False: always parse a <see cref="JsonDocument"/> (tests compare both paths).</param>
    /// <param name="avroDirect">False: Avro values always go through JSON (tests compare it with the direct path).</param>
    internal MessageConverter(MappingConfig mapping, bool singlePass, SchemaSource? schemas = null, bool avroDirect = true)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        Mapping = mapping;
        _decoder = PayloadDecoder.For(mapping, schemas);
        _filter = MessageFilter.For(mapping, _decoder);
        _format = mapping.Format;
        _plans = new ColumnPlan[mapping.Columns.Count];
        for (var i = 0; i < _plans.Length; i++)
        {
            _plans[i] = new ColumnPlan(mapping.Columns[i], mapping.Format);
        }

        // The hot path for format json: value fields found in one reader pass, each converted from its token.
        _valueFields = singlePass ? JsonFieldIndex.TryCreate(_plans, _format) : null;
        _keyIndexes = mapping.KeyIndexes();
        _newerBy = mapping.NewerBy is { } newerBy ? mapping.Columns.ToList().FindIndex(c => c.Name == newerBy) : -1;
        if (mapping.KeepUnavailableValues && _plans.Any(IsUnavailableCandidate))
        {
            _unavailable = Array.ConvertAll(_plans, IsUnavailableCandidate);
            // Key columns are the row's identity, which Debezium always sends.
            foreach (var k in _keyIndexes)
            {
                _unavailable[k] = false;
            }
        }

        // The direct Avro path writes plain rows only: newer_by versions and Debezium's placeholders are read on the JSON path.
        _avroDirect = avroDirect && _decoder is { ValueIsAvro: true } && AvroRowPlan.Covers(_plans, _format) && _newerBy < 0 && _unavailable is null;
        _keyFallbacks = new ColumnPlan?[_plans.Length];
        _wholeKeyFallbacks = new ColumnPlan?[_plans.Length];
        foreach (var i in _keyIndexes)
        {
            var column = mapping.Columns[i];
            if (column.From.Kind == SourceKind.Value)
            {
                // value.id of a row is key.id of its tombstone (and of a Debezium key): same path, other document.
                var keyPath = column.From with { Kind = SourceKind.Key, Text = "key" + column.From.Text["value".Length..] };
                _keyFallbacks[i] = new ColumnPlan(column with { From = keyPath }, mapping.Format);
                // A single key column may also be the whole key: 17, "order-17" or a bare uuid.
                if (_keyIndexes.Length == 1 && keyPath.Segments.Count > 0)
                {
                    _wholeKeyFallbacks[i] = new ColumnPlan(column with { From = keyPath with { Segments = [], Text = "key" } }, mapping.Format);
                }
            }
        }
    }

    public MappingConfig Mapping { get; }

    /// <summary>Whether the mapping has a <c>when:</c> or <c>skip_when:</c> (<see cref="TryFilter"/>).</summary>
    internal bool Filters => _filter is not null;

    /// <summary>Whether a write may keep stored values of some columns (Debezium's placeholder): it then takes a kept-columns array.</summary>
    public bool DetectsUnavailable => _unavailable is not null;

    private static bool IsUnavailableCandidate(ColumnPlan plan) =>
        plan.Access == ColumnAccess.ValuePath && UpsertRules.MayBeUnavailable(plan.Column.Type);

    /// <summary>Whether ordinary values of this mapping are read without a <see cref="JsonDocument"/>.</summary>
    internal bool ReadsValueInOnePass => _valueFields is not null;

    /// <summary>
    /// The message as the other methods take it: registry-encoded keys and values (avro, json_schema) decoded to
    /// JSON; the message itself for JSON mappings. Returns null on success, or why it cannot be decoded (an unknown
    /// schema id, bytes not in the wire format or not of their schema). Throws
    /// <see cref="SchemaRegistryUnavailableException"/> when the registry does not answer: a transient failure.
    /// </summary>
    public ConversionError? TryDecode(ConsumeResult<byte[]?, byte[]?> message, out ConsumeResult<byte[]?, byte[]?> decoded)
    {
        ArgumentNullException.ThrowIfNull(message);
        decoded = message;
        try
        {
            return _decoder?.TryDecode(message, out decoded);
        }
        catch (Exception e) when (IsConversionFault(e))
        {
            return Unexpected(null, e);
        }
    }

    /// <summary>Adds the registry schema ids that converting <paramref name="message"/> needs (none for JSON mappings).</summary>
    internal void AddSchemaIds(ConsumeResult<byte[]?, byte[]?> message, ISet<int> ids) => _decoder?.AddSchemaIds(message, ids);

    /// <summary>
    /// Whether the mapping takes the message by its <c>when:</c> and <c>skip_when:</c>. Null on success, else why they
    /// cannot be evaluated (the message's error in this mapping).
    /// </summary>
    /// <param name="original">The message as consumed (the registry schema id is read from it).</param>
    /// <param name="decoded">The message from <see cref="TryDecode"/>.</param>
    public ConversionError? TryFilter(ConsumeResult<byte[]?, byte[]?> original, ConsumeResult<byte[]?, byte[]?> decoded, out FilterVerdict verdict)
    {
        verdict = FilterVerdict.Take;
        try
        {
            return _filter?.TryEvaluate(original, decoded, out verdict);
        }
        catch (Exception e) when (IsConversionFault(e))
        {
            return Unexpected(null, e);
        }
    }

    /// <summary>Whether the message is a row, a tombstone (null value, any format) or a Debezium delete.</summary>
    public MessageKind Classify(ConsumeResult<byte[]?, byte[]?> message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var value = message.Message.Value;
        if (value is null)
        {
            return MessageKind.Tombstone;
        }

        return _format == MessageFormat.Debezium ? Envelope.ClassifyDebezium(value) : MessageKind.Row;
    }

    /// <summary>
    /// Decides what <paramref name="message"/> does to the table and converts what that needs: every column for a
    /// write, the key columns for a delete (the others stay null). Returns null on success, or why it cannot.
    /// </summary>
    /// <param name="kept">For a write: set per column whose stored value stays (see <see cref="TryConvert"/>).</param>
    public ConversionError? TryConvertChange(ConsumeResult<byte[]?, byte[]?> message, object?[] values, out ChangeKind change, bool[]? kept = null)
    {
        change = ChangeKind.Skip;
        if (TryDecode(message, out message) is { } undecodable)
        {
            return undecodable;
        }

        change = Decide(message);
        return change switch
        {
            ChangeKind.Write => TryConvert(message, values, kept),
            ChangeKind.Delete => TryConvertKey(message, values),
            _ => null,
        };
    }

    /// <summary>What <paramref name="message"/> does to the table (see <see cref="TryConvertChange"/>).</summary>
    public ChangeKind Decide(ConsumeResult<byte[]?, byte[]?> message) => Classify(message) switch
    {
        MessageKind.Row => ChangeKind.Write,
        MessageKind.Delete when Mapping.Mode == WriteMode.Upsert => ChangeKind.Delete,
        // Debezium follows every delete event with a tombstone for log compaction; the 'd' event already deleted.
        MessageKind.Tombstone when Mapping.DeleteOnTombstone && _format != MessageFormat.Debezium => ChangeKind.Delete,
        _ => ChangeKind.Skip,
    };

    /// <summary>
    /// Fills <paramref name="values"/>[i] for <c>Mapping.Columns[i]</c>. Returns null on success, or why the message
    /// cannot become a row (then <paramref name="values"/> is partly written and must not be used). Bad input never throws.
    /// </summary>
    /// <param name="kept">
    /// Needed when <see cref="DetectsUnavailable"/>: set to true for a column whose value is Debezium's unavailable-value
    /// placeholder (its value is then null, and the stored value stays).
    /// </param>
    public ConversionError? TryConvert(ConsumeResult<byte[]?, byte[]?> message, object?[] values, bool[]? kept = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length < _plans.Length)
        {
            throw new ArgumentException($"needs room for {_plans.Length} values, got {values.Length}", nameof(values));
        }

        return ConvertColumns(message, new ValueSink(values, kept));
    }

    /// <summary>
    /// <see cref="TryConvert"/> for the write path: the row is appended to <paramref name="tuple"/> as a binary COPY
    /// tuple of every column, and only the columns in <paramref name="keys"/> are also kept as values (an upsert merges
    /// by key). On failure the tuple is left as it was.
    /// </summary>
    public ConversionError? TryEncode(ConsumeResult<byte[]?, byte[]?> message, CopyBuffer tuple, object?[] keyValues, int[] keys, bool[]? kept = null)
    {
        ArgumentNullException.ThrowIfNull(tuple);
        var start = tuple.Length;
        CopyRowEncoder.WriteFieldCount(tuple, _plans.Length);
        var error = ConvertColumns(message, new TupleSink(tuple, keyValues, keys, kept));
        if (error is not null)
        {
            tuple.Truncate(start);
        }

        return error;
    }

    /// <summary>The column loop of both: where each value is read from, defaults and required columns.</summary>
    private ConversionError? ConvertColumns<TSink>(ConsumeResult<byte[]?, byte[]?> message, TSink sink)
        where TSink : IColumnSink
    {
        ArgumentNullException.ThrowIfNull(message);
        var json = message.Message.Value is { } bytes ? Envelope.SkipBom(bytes).Span : default;
        Span<int> starts = _valueFields is null ? default : _plans.Length <= 64 ? stackalloc int[_plans.Length] : new int[_plans.Length];
        var parsed = new ParsedMessage(_format);
        var i = 0;
        try
        {
            var located = _valueFields is not null && !json.IsEmpty && _valueFields.TryLocate(json, starts);
            for (; i < _plans.Length; i++)
            {
                var plan = _plans[i];
                if (plan.Access == ColumnAccess.Now)
                {
                    // Not known before the batch's transaction: the writer appends it (RowCopier).
                    continue;
                }

                object? value = null;
                Failure failure;
                if (located && plan.Access == ColumnAccess.ValuePath)
                {
                    // A located field converts from its token in place; absent (-1) and JSON null are no value.
                    if (starts[i] >= 0)
                    {
                        var reader = new Utf8JsonReader(json[starts[i]..]);
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.Null)
                        {
                            if (!sink.TryToken(i, plan.Converter, ref reader, out failure))
                            {
                                return Error(plan, failure);
                            }

                            continue;
                        }
                    }
                }
                else if (_unavailable is not null && _unavailable[i] && IsUnavailable(plan, message, ref parsed))
                {
                    sink.Keep(i, plan.Converter);
                    continue;
                }
                else if (!TryRead(plan, message, ref parsed, out value, out failure))
                {
                    return Error(plan, failure);
                }

                if (value is null)
                {
                    if (plan.DefaultValue is { } fallback)
                    {
                        value = fallback;
                    }
                    else if (!plan.Column.Nullable)
                    {
                        return new ConversionError(
                            ConversionErrorKind.MissingField,
                            plan.Column.Name,
                            $"'{plan.Column.From}' is missing or null, and column '{plan.Column.Name}' is required (not nullable, no default)");
                    }
                }

                sink.Add(i, plan.Converter, value);
            }

            return null;
        }
        catch (Exception e) when (IsConversionFault(e))
        {
            return Unexpected(i < _plans.Length ? _plans[i] : null, e);
        }
        finally
        {
            parsed.Dispose();
        }
    }

    /// <summary>
    /// The last resort behind "bad input never throws". Every converter reports bad input as a <see cref="Failure"/>,
    /// and the tests feed them hostile input of every kind; but an input some converter still throws on would, uncaught,
    /// end the process at that message on every restart with its offset never passing it (a crash loop that no
    /// replica survives). Conversion reads nothing but the message and the mapping, so an exception from inside it is
    /// about this message: it becomes the message's error (a dead letter, or a clean stop under on_error: fail).
    /// Kept narrow: only the column loops of conversion are inside, not the writes or the batch around them, and out of
    /// memory is the process's problem, not the message's.
    /// </summary>
    /// A registry that does not answer is not the message's problem either: the batch waits for it.
    private static bool IsConversionFault(Exception e) => e is not (OutOfMemoryException or SchemaRegistryUnavailableException);

    private static ConversionError Unexpected(ColumnPlan? plan, Exception e) =>
        new(ConversionErrorKind.Unexpected, plan?.Column.Name ?? "",
            $"{plan?.Column.From.ToString() ?? "message"}: converting this message failed unexpectedly ({e.GetType().Name}: {Failure.Storable(e.Message)}); this is a bug of the sink, please report it");

    private static ConversionError Error(ColumnPlan plan, Failure failure) =>
        new(failure.Kind, plan.Column.Name, $"{plan.Column.From}: {failure.Message}");

    /// <summary>
    /// The key columns of a delete: from the row image when there is one (Debezium's <c>before</c>), else from the
    /// message key at the same path (<c>value.id</c> reads <c>key.id</c>), or the whole key for a one-column key.
    /// </summary>
    public ConversionError? TryConvertKey(ConsumeResult<byte[]?, byte[]?> message, object?[] values)
    {
        Array.Clear(values, 0, _plans.Length);
        var parsed = new ParsedMessage(_format);
        ColumnPlan? plan = null;
        try
        {
            foreach (var i in _keyIndexes)
            {
                plan = _plans[i];
                if (!TryRead(plan, message, ref parsed, out var value, out var failure))
                {
                    return Error(plan, failure);
                }

                if (value is null && _keyFallbacks[i] is { } byPath)
                {
                    var read = byPath;
                    var ok = TryRead(byPath, message, ref parsed, out value, out failure);
                    if (value is null && _wholeKeyFallbacks[i] is { } whole && !(parsed.HasKey && parsed.KeyRoot.ValueKind == JsonValueKind.Object))
                    {
                        read = whole;
                        ok = TryRead(whole, message, ref parsed, out value, out failure);
                    }

                    if (!ok)
                    {
                        return new ConversionError(failure.Kind, plan.Column.Name, $"{read.Column.From}: {failure.Message}");
                    }
                }

                if (value is null)
                {
                    return new ConversionError(
                        ConversionErrorKind.MissingField,
                        plan.Column.Name,
                        $"a delete needs key column '{plan.Column.Name}', but neither '{plan.Column.From}' nor the message key has it");
                }

                values[i] = value;
            }

            // A delete's version, when its message has one (a Debezium delete's before image, source.*): a delete then
            // removes only a row no newer than itself. Without one it deletes whatever is stored.
            if (_newerBy >= 0)
            {
                plan = _plans[_newerBy];
                if (!TryRead(plan, message, ref parsed, out values[_newerBy], out var failure))
                {
                    return Error(plan, failure);
                }
            }

            return null;
        }
        catch (Exception e) when (IsConversionFault(e))
        {
            return Unexpected(plan, e);
        }
        finally
        {
            parsed.Dispose();
        }
    }

    private static bool IsUnavailable(ColumnPlan plan, ConsumeResult<byte[]?, byte[]?> message, ref ParsedMessage parsed) =>
        parsed.EnsureValue(message.Message.Value, out _) && parsed.Value.HasRow && plan.TryNavigate(parsed.Value.Row, out var element)
        && UnavailableValue.Matches(element, plan.Column.Type);

    private static bool TryRead(ColumnPlan plan, ConsumeResult<byte[]?, byte[]?> message, ref ParsedMessage parsed, out object? value, out Failure failure)
    {
        value = null;
        failure = default;
        var converter = plan.Converter;
        switch (plan.Access)
        {
            case ColumnAccess.ValuePath:
                if (!parsed.EnsureValue(message.Message.Value, out failure))
                {
                    return false;
                }

                return !parsed.Value.HasRow || !plan.TryNavigate(parsed.Value.Row, out var element)
                    || converter.TryFromJson(element, out value, out failure);
            case ColumnAccess.SourcePath:
                if (!parsed.EnsureValue(message.Message.Value, out failure))
                {
                    return false;
                }

                return !parsed.Value.HasSource || !plan.TryNavigate(parsed.Value.Source, out element)
                    || converter.TryFromJson(element, out value, out failure);
            case ColumnAccess.KeyPath:
                if (!parsed.EnsureKey(message.Message.Key, out failure))
                {
                    return false;
                }

                return !parsed.HasKey || !plan.TryNavigate(parsed.KeyRoot, out element)
                    || converter.TryFromJson(element, out value, out failure);
            case ColumnAccess.WholeValue:
                return TryReadWhole(plan, message.Message.Value, isKey: false, ref parsed, out value, out failure);
            case ColumnAccess.WholeKey:
                return TryReadWhole(plan, message.Message.Key, isKey: true, ref parsed, out value, out failure);
            case ColumnAccess.RawValue:
                return TryReadRaw(plan, message.Message.Value, ref parsed, out value, out failure);
            case ColumnAccess.Header:
                return TryReadHeader(plan, message.Message.Headers, out value, out failure);
            case ColumnAccess.Topic:
                return converter.TryFromText(message.Topic, out value, out failure);
            case ColumnAccess.Partition:
                return converter.TryFromInt64(message.Partition.Value, out value, out failure);
            case ColumnAccess.Offset:
                return converter.TryFromInt64(message.Offset.Value, out value, out failure);
            case ColumnAccess.Constant:
                value = plan.ConstantValue;
                return true;
            case ColumnAccess.Now:
                return true;
            case ColumnAccess.Concat:
                return TryConcat(plan, message, ref parsed, out value, out failure);
            case ColumnAccess.Timestamp:
                var timestamp = message.Message.Timestamp;
                return timestamp.Type == TimestampType.NotAvailable
                    || converter.TryFromEpochMillis(timestamp.UnixTimestampMs, out value, out failure);
            default:
                throw new InvalidOperationException($"unhandled column access {plan.Access}");
        }
    }

    /// <summary>
    /// Like SQL's <c>||</c>, not its <c>concat()</c>: one missing or null argument makes the result null (then the
    /// column's default or nullability decides), so a key built from parts never silently loses one.
    /// </summary>
    private static bool TryConcat(ColumnPlan plan, ConsumeResult<byte[]?, byte[]?> message, ref ParsedMessage parsed, out object? value, out Failure failure)
    {
        value = null;
        var text = new System.Text.StringBuilder();
        foreach (var part in plan.Parts)
        {
            if (!TryRead(part, message, ref parsed, out var partValue, out failure))
            {
                return false;
            }

            if (partValue is null)
            {
                return true;
            }

            text.Append((string)partValue);
        }

        return plan.Converter.TryFromText(text.ToString(), out value, out failure);
    }

    /// <summary>
    /// A whole key (any format) or value (format json). Keys are often plain strings ("order-17", a bare uuid), so
    /// text and scalar columns only parse JSON when the bytes look like a JSON string or container: a failed parse
    /// per message would be an exception per message.
    /// </summary>
    private static bool TryReadWhole(ColumnPlan plan, byte[]? bytes, bool isKey, ref ParsedMessage parsed, out object? value, out Failure failure)
    {
        value = null;
        failure = default;
        if (bytes is null)
        {
            return true;
        }

        var converter = plan.Converter;
        switch (plan.Mode)
        {
            case WholeMode.Bytes:
                value = bytes;
                return true;
            case WholeMode.Json:
                if (!parsed.EnsureWhole(bytes, isKey, out var root, out failure))
                {
                    return false;
                }

                return root.ValueKind == JsonValueKind.Null || converter.TryFromJson(root, out value, out failure);
            case WholeMode.Text:
                // A JSON string's content ("\"abc\"" is abc); anything else, JSON or not, is kept as its text.
                if (FirstNonSpace(bytes) == '"' && parsed.EnsureWhole(bytes, isKey, out root, out _) && root.ValueKind == JsonValueKind.String)
                {
                    return converter.TryFromJson(root, out value, out failure);
                }

                return TryDecode(bytes, isKey ? "key" : "value", out var text, out failure)
                    && converter.TryFromText(text, out value, out failure);
            default:
                if (FirstNonSpace(bytes) is (byte)'"' or (byte)'{' or (byte)'[')
                {
                    if (!parsed.EnsureWhole(bytes, isKey, out root, out failure))
                    {
                        return false;
                    }

                    return converter.TryFromJson(root, out value, out failure);
                }

                if (!TryDecode(bytes, isKey ? "key" : "value", out text, out failure))
                {
                    return false;
                }

                text = text.Trim();
                return text == "null" || converter.TryFromText(text, out value, out failure);
        }
    }

    private static bool TryReadRaw(ColumnPlan plan, byte[]? bytes, ref ParsedMessage parsed, out object? value, out Failure failure)
    {
        value = null;
        failure = default;
        if (bytes is null)
        {
            return true;
        }

        switch (plan.Mode)
        {
            case WholeMode.Bytes:
                value = bytes;
                return true;
            case WholeMode.Json:
                // Validated by parsing: Postgres would reject invalid JSON and fail the whole COPY batch.
                return parsed.EnsureWhole(bytes, isKey: false, out var root, out failure)
                    && plan.Converter.TryFromJson(root, out value, out failure);
            default:
                return TryDecode(bytes, "value", out var text, out failure)
                    && plan.Converter.TryFromText(plan.Mode == WholeMode.Text ? text : text.Trim(), out value, out failure);
        }
    }

    /// <summary>The last header of that name wins, as Kafka clients conventionally read headers; its bytes are UTF-8 text.</summary>
    private static bool TryReadHeader(ColumnPlan plan, Headers? headers, out object? value, out Failure failure)
    {
        value = null;
        failure = default;
        if (headers is null || !headers.TryGetLastBytes(plan.HeaderName!, out var bytes) || bytes is null)
        {
            return true;
        }

        if (plan.Mode == WholeMode.Bytes)
        {
            value = bytes;
            return true;
        }

        return TryDecode(bytes, $"header '{plan.HeaderName}'", out var text, out failure)
            && plan.Converter.TryFromText(text, out value, out failure);
    }

    private static bool TryDecode(byte[] bytes, string part, out string text, out Failure failure)
    {
        if (!Utf8.IsValid(bytes))
        {
            text = "";
            failure = new Failure(ConversionErrorKind.InvalidJson, $"{part} is not valid UTF-8");
            return false;
        }

        text = Encoding.UTF8.GetString(bytes);
        failure = default;
        return true;
    }

    private static byte FirstNonSpace(byte[] bytes)
    {
        foreach (var b in bytes)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return b;
            }
        }

        return 0;
    }

    /// <summary>Where <see cref="ConvertColumns"/> puts each column's value (a struct, so the loop is compiled for each).</summary>
    private interface IColumnSink
    {
        /// <summary>Converts the token <paramref name="reader"/> is on (not JSON null) for column <paramref name="column"/>.</summary>
        bool TryToken(int column, ValueConverter converter, ref Utf8JsonReader reader, out Failure failure);

        /// <summary>A value read some other way, a default, or null for SQL NULL.</summary>
        void Add(int column, ValueConverter converter, object? value);

        /// <summary>No value: the stored one stays (null here, and marked kept).</summary>
        void Keep(int column, ValueConverter converter);
    }

    private readonly struct ValueSink(object?[] values, bool[]? kept) : IColumnSink
    {
        public bool TryToken(int column, ValueConverter converter, ref Utf8JsonReader reader, out Failure failure) =>
            converter.TryFromToken(ref reader, out values[column], out failure);

        public void Add(int column, ValueConverter converter, object? value) => values[column] = value;

        public void Keep(int column, ValueConverter converter)
        {
            values[column] = null;
            kept![column] = true;
        }
    }

    private readonly struct TupleSink(CopyBuffer tuple, object?[] keyValues, int[] keys, bool[]? kept) : IColumnSink
    {
        public bool TryToken(int column, ValueConverter converter, ref Utf8JsonReader reader, out Failure failure)
        {
            if (Array.IndexOf(keys, column) >= 0)
            {
                // A copy of the reader reads the same token again (it is a struct over the same bytes).
                var again = reader;
                if (!converter.TryFromToken(ref again, out keyValues[column], out failure))
                {
                    return false;
                }
            }

            return converter.TryEncodeToken(ref reader, tuple, out failure);
        }

        public void Add(int column, ValueConverter converter, object? value)
        {
            if (Array.IndexOf(keys, column) >= 0)
            {
                keyValues[column] = value;
            }

            CopyRowEncoder.WriteField(tuple, value, converter.Type);
        }

        public void Keep(int column, ValueConverter converter)
        {
            CopyRowEncoder.WriteField(tuple, null, converter.Type);
            kept![column] = true;
        }
    }

    /// <summary>The key and value documents of one message, each parsed at most once and only if a column needs it.</summary>
    private struct ParsedMessage : IDisposable
    {
        private readonly MessageFormat _format;
        private JsonDocument? _valueDocument;
        private JsonDocument? _keyDocument;
        private bool _valueDone;
        private bool _keyDone;
        private Failure _valueFailure;
        private Failure _keyFailure;

        public ParsedMessage(MessageFormat format) => _format = format;

        public EnvelopeParts Value { get; private set; }

        public JsonElement KeyRoot { get; private set; }

        public bool HasKey { get; private set; }

        public bool EnsureValue(byte[]? bytes, out Failure failure)
        {
            if (!_valueDone)
            {
                _valueDone = true;
                if (bytes is not null && TryParse(bytes, "value", out _valueDocument, out _valueFailure))
                {
                    if (Envelope.TryUnwrap(_format, _valueDocument!.RootElement, out var parts, out _valueFailure))
                    {
                        Value = parts;
                    }
                }
            }

            failure = _valueFailure;
            return failure.Message is null;
        }

        public bool EnsureKey(byte[]? bytes, out Failure failure)
        {
            if (!_keyDone)
            {
                _keyDone = true;
                if (bytes is not null && TryParse(bytes, "key", out _keyDocument, out _keyFailure))
                {
                    KeyRoot = Envelope.UnwrapKey(_format, _keyDocument!.RootElement);
                    HasKey = KeyRoot.ValueKind != JsonValueKind.Null;
                }
            }

            failure = _keyFailure;
            return failure.Message is null;
        }

        /// <summary>The root of the key (unwrapped like <see cref="KeyRoot"/>), or of the value before any envelope (whole-value access exists for json and raw only).</summary>
        public bool EnsureWhole(byte[] bytes, bool isKey, out JsonElement root, out Failure failure)
        {
            var ok = isKey ? EnsureKey(bytes, out failure) : EnsureValue(bytes, out failure);
            root = !ok ? default : isKey ? KeyRoot : _valueDocument!.RootElement;
            return ok;
        }

        public readonly void Dispose()
        {
            _valueDocument?.Dispose();
            _keyDocument?.Dispose();
        }

        private static bool TryParse(byte[] bytes, string part, out JsonDocument? document, out Failure failure)
        {
            document = null;
            // JsonDocument does not validate UTF-8 inside strings until they are read, and then it throws.
            if (!Utf8.IsValid(bytes))
            {
                failure = new Failure(ConversionErrorKind.InvalidJson, $"{part} is not valid UTF-8");
                return false;
            }

            var json = Envelope.SkipBom(bytes);
            try
            {
                document = JsonDocument.Parse(json);
            }
            catch (JsonException e)
            {
                failure = new Failure(ConversionErrorKind.InvalidJson, $"{part} is not valid JSON: {Failure.Storable(e.Message)}");
                return false;
            }

            // Like invalid UTF-8, anywhere in the document: reading that string would throw, and jsonb refuses it.
            if (UnicodeEscapes.FindUnpairedSurrogate(json.Span) is var at and >= 0)
            {
                document.Dispose();
                document = null;
                failure = new Failure(ConversionErrorKind.InvalidJson, $"{part} is not valid JSON: {UnicodeEscapes.Describe(json.Span, at)}");
                return false;
            }

            failure = default;
            return true;
        }
    }
}
