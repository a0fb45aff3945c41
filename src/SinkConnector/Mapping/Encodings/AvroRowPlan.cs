using Avro;
using SinkConnector.Configuration;
using SinkConnector.Mapping.Conversion;
using SinkConnector.PgBinary;
using AvroSchema = Avro.Schema;

namespace SinkConnector.Mapping.Encodings;

/// <summary>
/// The columns of a mapping laid over one writer schema: which record fields hold a mapped path (<c>value.a.b</c>; for
/// Debezium <c>after.*</c> and <c>source.*</c>), so one walk over the Avro binary picks each column's value as an
/// <see cref="AvroLeaf"/> and reads through the rest. Built once per (schema id, mapping). Null from
/// <see cref="TryCreate"/> when the mapping needs something the walk does not cover (then the JSON path converts).
/// </summary>
internal sealed class AvroRowPlan
{
    private readonly AvroSchema _root;
    private readonly MessageFormat _format;
    private readonly PathNode _value;
    private readonly PathNode _source;

    private AvroRowPlan(AvroSchema root, MessageFormat format, PathNode value, PathNode source)
    {
        _root = root;
        _format = format;
        _value = value;
        _source = source;
    }

    /// <summary>Whether the mapping's columns can be read by a walk at all (any schema): the ones without a key, raw value or array index.</summary>
    public static bool Covers(ColumnPlan[] plans, MessageFormat format) =>
        format is MessageFormat.Json or MessageFormat.Debezium
        && plans.All(p => p.Access switch
        {
            ColumnAccess.ValuePath or ColumnAccess.SourcePath => p.Steps.All(s => s.Utf8Name is not null),
            ColumnAccess.WholeValue => p.Mode == WholeMode.Json,
            ColumnAccess.Header or ColumnAccess.Topic or ColumnAccess.Partition or ColumnAccess.Offset or ColumnAccess.Timestamp => true,
            _ => false,
        });

    public static AvroRowPlan? TryCreate(AvroSchema root, ColumnPlan[] plans, MessageFormat format)
    {
        if (!Covers(plans, format) || root is not RecordSchema record || AvroValueReader.IsConnectValue(root))
        {
            return null;
        }

        if (format == MessageFormat.Debezium && !record.Fields.Any(f => f.Name == "op"))
        {
            return null;
        }

        var value = new PathNode();
        var source = new PathNode();
        for (var i = 0; i < plans.Length; i++)
        {
            var node = plans[i].Access switch
            {
                ColumnAccess.ValuePath or ColumnAccess.WholeValue => value,
                ColumnAccess.SourcePath => source,
                _ => null,
            };
            if (node is null)
            {
                continue;
            }

            foreach (var step in plans[i].Steps)
            {
                node = node.Child(step);
            }

            node.Columns.Add(i);
        }

        var valueRoot = format == MessageFormat.Debezium ? FieldSchema(record, "after") : root;
        var sourceRoot = format == MessageFormat.Debezium ? FieldSchema(record, "source") : null;
        return IsJsonOnly(value, plans) && IsJsonOnly(source, plans)
            && (valueRoot is null || Compile(valueRoot, value, [])) && (sourceRoot is null || Compile(sourceRoot, source, []))
            ? new AvroRowPlan(root, format, value, source)
            : null;
    }

    /// <summary>
    /// Walks <paramref name="payload"/>, setting <paramref name="leaves"/>[i] for each value/source column (the rest
    /// stay <see cref="AvroLeafKind.Absent"/>). False when the message is not a row this plan writes (a Debezium
    /// delete, an op that is not a string); throws <see cref="AvroDataException"/> where the JSON path would.
    /// </summary>
    public bool TryRead(ReadOnlySpan<byte> payload, Span<AvroLeaf> leaves)
    {
        var reader = new AvroBinaryReader(payload);
        var record = (RecordSchema)_root;
        bool isRow;
        if (_format == MessageFormat.Debezium)
        {
            var op = default(AvroLeaf);
            foreach (var field in record.Fields)
            {
                switch (field.Name)
                {
                    case "after":
                        ReadNode(field.Schema, _value, ref reader, leaves, 1);
                        break;
                    case "source":
                        ReadNode(field.Schema, _source, ref reader, leaves, 1);
                        break;
                    case "op":
                        op = AvroValueReader.Read(field.Schema, ref reader, 1);
                        break;
                    default:
                        AvroValueReader.Read(field.Schema, ref reader, 1);
                        break;
                }
            }

            // What Envelope.ClassifyDebezium and TryUnwrap decide: a string op (an enum symbol is one in JSON), and "d" is a delete (from 'before').
            isRow = op.Kind == AvroLeafKind.String && !(op.Symbol ?? payload.Slice(op.DataStart, op.DataLength)).SequenceEqual("d"u8);
        }
        else
        {
            ReadNode(record, _value, ref reader, leaves, 0);
            isRow = true;
        }

        if (reader.Remaining != 0)
        {
            throw new AvroDataException($"{reader.Remaining} bytes are left after the value: the data was not written with this schema");
        }

        return isRow;
    }

    private static void ReadRecord(RecordSchema record, PathNode node, ref AvroBinaryReader reader, Span<AvroLeaf> leaves, int depth)
    {
        var fieldNodes = node.Fields[record];
        var fields = record.Fields;
        for (var i = 0; i < fields.Count; i++)
        {
            if (fieldNodes[i] is { } child)
            {
                ReadNode(fields[i].Schema, child, ref reader, leaves, depth + 1);
            }
            else
            {
                AvroValueReader.Read(fields[i].Schema, ref reader, depth + 1);
            }
        }
    }

    private static void ReadNode(AvroSchema schema, PathNode node, ref AvroBinaryReader reader, Span<AvroLeaf> leaves, int depth)
    {
        if (node.Children.Count == 0)
        {
            var leaf = AvroValueReader.Read(schema, ref reader, depth);
            foreach (var column in node.Columns)
            {
                leaves[column] = leaf;
            }

            return;
        }

        var start = reader.Position;
        Descend(schema, node, ref reader, leaves, depth);
        SetContainer(node, schema, start, reader.Position, leaves);
    }

    /// <summary>A node with fields below it: its own columns (json/jsonb only) take the value's JSON text.</summary>
    private static void SetContainer(PathNode node, AvroSchema schema, int start, int end, Span<AvroLeaf> leaves)
    {
        foreach (var column in node.Columns)
        {
            leaves[column] = new AvroLeaf { Kind = AvroLeafKind.Container, Schema = schema, Start = start, End = end };
        }
    }

    private static void Descend(AvroSchema schema, PathNode node, ref AvroBinaryReader reader, Span<AvroLeaf> leaves, int depth)
    {
        if (depth > AvroJsonWriter.MaxDepth)
        {
            throw new AvroDataException($"the value is nested deeper than {AvroJsonWriter.MaxDepth} levels");
        }

        switch (schema)
        {
            case RecordSchema record when !AvroValueReader.IsConnectValue(schema):
                ReadRecord(record, node, ref reader, leaves, depth);
                return;
            case UnionSchema union:
                var branch = reader.ReadLong();
                Descend(branch >= 0 && branch < union.Count ? union[(int)branch] : throw new AvroDataException($"{branch} is not a branch of union {union}"), node, ref reader, leaves, depth + 1);
                return;
            default:
                // Not an object in JSON either: no path below it has a value.
                AvroValueReader.Read(schema, ref reader, depth);
                return;
        }
    }

    /// <summary>Records where <paramref name="node"/> has paths: the node of each field. False for a path into a map (JSON's object keys; the JSON path reads those).</summary>
    private static bool Compile(AvroSchema schema, PathNode node, HashSet<(AvroSchema, PathNode)> seen)
    {
        if (node.Children.Count == 0 || !seen.Add((schema, node)))
        {
            return true;
        }

        switch (schema)
        {
            case RecordSchema record when !AvroValueReader.IsConnectValue(schema):
                var fieldNodes = record.Fields.Select(f => node.Children.GetValueOrDefault(f.Name)).ToArray();
                node.Fields[record] = fieldNodes;
                for (var i = 0; i < fieldNodes.Length; i++)
                {
                    if (fieldNodes[i] is { } child && !Compile(record.Fields[i].Schema, child, seen))
                    {
                        return false;
                    }
                }

                return true;
            case UnionSchema union:
                return union.Schemas.All(branch => Compile(branch, node, seen));
            case MapSchema:
                return false;
            default:
                return true;
        }
    }

    /// <summary>A column on a node with paths below it holds a whole object: only json/jsonb take one as it is.</summary>
    private static bool IsJsonOnly(PathNode node, ColumnPlan[] plans) =>
        (node.Children.Count == 0 || node.Columns.All(c => plans[c].Converter.Type is { IsArray: false, Scalar: ScalarType.Json or ScalarType.Jsonb }))
        && node.Children.Values.All(child => IsJsonOnly(child, plans));

    private static AvroSchema? FieldSchema(RecordSchema record, string name) =>
        record.Fields.FirstOrDefault(f => f.Name == name)?.Schema;

    private sealed class PathNode
    {
        public Dictionary<string, PathNode> Children { get; } = [];

        public List<int> Columns { get; } = [];

        /// <summary>Per record schema reached at this node: the node of each of its fields (null: not mapped).</summary>
        public Dictionary<RecordSchema, PathNode?[]> Fields { get; } = new(ReferenceEqualityComparer.Instance);

        public PathNode Child(PathStep step)
        {
            var name = System.Text.Encoding.UTF8.GetString(step.Utf8Name!);
            if (!Children.TryGetValue(name, out var child))
            {
                child = new PathNode();
                Children[name] = child;
            }

            return child;
        }
    }
}
