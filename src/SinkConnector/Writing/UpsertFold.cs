using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;

namespace SinkConnector.Writing;

/// <summary>
/// Folds the changes of a batch, key by key, into as few statements as the upsert rules allow, with exactly the
/// result of applying every change on its own in offset order: a write applies when no row is stored or the stored
/// <c>newer_by</c> value is null or smaller; a delete removes a stored row whose version is null or no greater than
/// its own (a delete without a version removes any); an update sets the <c>update_columns</c> except those a change
/// keeps (<c>on_null: keep</c> and null, or Debezium's unavailable-value placeholder).
/// </summary>
/// <remarks>
/// Per key the fold keeps steps of (delete, then write); a step's delete runs before its write. Folding into the last
/// step is exact in these cases (the proofs follow the stored version through each case):
/// a delete after a write drops the write unless the write is newer than the delete, which then drops the delete;
/// two deletes are the one with the greater version (none: infinite);
/// a write no newer than the step's write never applies after it; a newer write merges column by column (its values,
/// except the columns it keeps, which come from the earlier write, and the columns updates do not set, which an
/// insert takes from the earliest write). Only with <c>newer_by</c>, a newer write that keeps a column the earlier
/// write sets cannot merge (the result depends on whether the earlier write applied): it starts a new step, written
/// by a later statement of the same batch.
/// </remarks>
internal sealed class UpsertFold(MappingConfig mapping, UpsertRules rules)
{
    private readonly int[] _all = RowCopier.AllColumns(mapping);

    /// <summary>The changes as layers: every key's first step in the first, its second (rare) in the second, ...</summary>
    public List<UpsertLayer> Fold(IEnumerable<RowChange> changes)
    {
        var byKey = new Dictionary<object?[], List<Step>>(new UpsertWriter.KeyComparer(mapping.KeyIndexes()));
        foreach (var change in changes)
        {
            if (!byKey.TryGetValue(change.Values, out var steps))
            {
                byKey.Add(change.Values, steps = [new Step()]);
            }

            var step = steps[^1];
            if (change.Kind == ChangeKind.Delete)
            {
                if (step.Write is { } write && rules.NewerBy >= 0 && Version(change) is { } deleteVersion && Compare(Version(write), deleteVersion) > 0)
                {
                    continue;
                }

                step.Write = null;
                step.Delete = step.Delete is { } earlier && !Supersedes(change, earlier) ? earlier : change;
            }
            else if (step.Write is not { } write)
            {
                step.Write = change;
            }
            else if (rules.NewerBy >= 0 && Compare(Version(change), Version(write)) <= 0)
            {
                continue;
            }
            else if (!rules.Partial && change.Kept is null)
            {
                // It sets every updated column itself: nothing of the earlier write shows through.
                step.Write = change;
            }
            else
            {
                var (older, newer) = (new Fields(this, write), new Fields(this, change));
                if (rules.NewerBy >= 0 && !KeepsOnlyWhatOlderKeeps(older, newer))
                {
                    steps.Add(new Step { Write = change });
                }
                else
                {
                    step.Write = Merge(older, newer);
                }
            }
        }

        var layers = new List<UpsertLayer>();
        foreach (var steps in byKey.Values)
        {
            for (var i = 0; i < steps.Count; i++)
            {
                if (i == layers.Count)
                {
                    layers.Add(new UpsertLayer([], []));
                }

                if (steps[i].Delete is { } delete)
                {
                    layers[i].Deletes.Add(delete);
                }

                if (steps[i].Write is { } write)
                {
                    layers[i].Writes.Add(write);
                }
            }
        }

        return layers;
    }

    private object? Version(RowChange change) => change.Values[rules.NewerBy];

    private static int Compare(object? x, object? y) => Comparer<object?>.Default.Compare(x, y);

    // Of two deletes, the one that removes more: without a version it removes any row.
    private bool Supersedes(RowChange later, RowChange earlier) =>
        rules.NewerBy < 0 || Version(later) is not { } v || (Version(earlier) is { } e && Compare(v, e) >= 0);

    private bool Keeps(Fields row, int column) =>
        (row.Change.Kept?[column] ?? false) || (rules.KeepOnNull[column] && row.Split[column].IsNull);

    private bool KeepsOnlyWhatOlderKeeps(Fields older, Fields newer)
    {
        for (var c = 0; c < _all.Length; c++)
        {
            if (rules.Updated[c] && Keeps(newer, c) && !Keeps(older, c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The newer write with the older one's values where the newer keeps them, and where updates do not reach.</summary>
    private RowChange Merge(Fields older, Fields newer)
    {
        var tuple = new CopyBuffer(older.Tuple.Length + newer.Tuple.Length);
        CopyRowEncoder.WriteFieldCount(tuple, _all.Length);
        bool[]? kept = null;
        var keys = mapping.KeyIndexes();
        for (var c = 0; c < _all.Length; c++)
        {
            var fromOlder = !keys.Contains(c) && (!rules.Updated[c] || Keeps(newer, c));
            var from = fromOlder ? older : newer;
            tuple.Write(from.Tuple.AsSpan(from.Split[c].Start, from.Split[c].Length));
            if (from.Change.Kept?[c] ?? false)
            {
                (kept ??= new bool[_all.Length])[c] = true;
            }
        }

        return newer.Change with { Merged = tuple.WrittenMemory.ToArray(), Kept = kept };
    }

    /// <summary>A write's tuple, split into its fields.</summary>
    private readonly struct Fields
    {
        public Fields(UpsertFold fold, RowChange change)
        {
            Change = change;
            if (change.Merged is { } merged)
            {
                Tuple = merged;
            }
            else if (change.Encoded is { } encoded)
            {
                Tuple = encoded.Tuple.ToArray();
            }
            else
            {
                var buffer = new CopyBuffer();
                new CopyRowEncoder(fold.MappingConfig, fold._all).Encode(change.Values, buffer);
                Tuple = buffer.WrittenMemory.ToArray();
            }

            Split = CopyTuple.Split(Tuple);
        }

        public RowChange Change { get; }

        public byte[] Tuple { get; }

        public CopyTuple.Field[] Split { get; }
    }

    private MappingConfig MappingConfig => mapping;

    private sealed class Step
    {
        public RowChange? Delete { get; set; }

        public RowChange? Write { get; set; }
    }
}

/// <summary>One round of an upsert: its deletes run first, then its writes; each key at most once in each list.</summary>
internal sealed record UpsertLayer(List<RowChange> Deletes, List<RowChange> Writes);
