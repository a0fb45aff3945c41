using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Engine;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using SinkConnector.Writing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Random change sequences (writes with versions out of order, deletes with and without versions, nulls, missing
/// fields, Debezium placeholders; a few keys) split into random batches, each converted like the sink converts a
/// batch (<see cref="BatchConverter"/>: encoded tuples, key and version values, kept columns) and written by
/// <see cref="ChangeWriter"/> in one transaction, with and without bad-row isolation. After every batch the table
/// must equal <see cref="UpsertReferenceModel"/>, which applies the same changes one at a time.
/// </summary>
public class UpsertRulesPropertyTests(TestServices services)
{
    private const int Sequences = 40, ChangesPerSequence = 24, Keys = 4;
    private static readonly string[] s_texts = ["status", "note", "body"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Rules() => ["debezium newer_by, note on_null keep", "json update_columns, on_null keep", "json newer_by, tombstones", "debezium newer_by, update_columns, on_null keep"];

    [Theory]
    [MemberData(nameof(Rules))]
    public async Task Folded_batches_end_exactly_where_applying_each_change_alone_ends(string rules)
    {
        var (mapping, model) = Setup(rules);
        var connectionString = await services.Postgres.CreateDatabaseAsync("upsert_rules", Ct);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await ExecuteAsync(connection, "CREATE TABLE public.items (id bigint PRIMARY KEY, version bigint NOT NULL, status text, note text, body text)");
        var seed = Random.Shared.Next();
        var random = new Random(seed);
        for (var sequence = 0; sequence < Sequences; sequence++)
        {
            await ExecuteAsync(connection, "TRUNCATE public.items");
            var reference = new UpsertReferenceModel(model);
            var changes = Enumerable.Range(0, ChangesPerSequence).Select(_ => Generate(random, mapping.Format)).ToList();
            var log = new StringBuilder();
            for (var at = 0; at < changes.Count;)
            {
                var batch = changes.Skip(at).Take(random.Next(1, 9)).ToList();
                var isolate = random.Next(4) == 0;
                log.AppendLine($"batch at {at}{(isolate ? " (isolating)" : "")}: {string.Join(" | ", batch.Select(Show))}");
                await WriteBatchAsync(connection, mapping, batch, at, isolate);
                batch.ForEach(reference.Apply);
                at += batch.Count;
                var actual = await RowsAsync(connection);
                Assert.True(reference.Rows().SequenceEqual(actual),
                    $"seed {seed}, sequence {sequence}, {rules}:\n{log}expected:\n  {string.Join("\n  ", reference.Rows())}\nactual:\n  {string.Join("\n  ", actual)}");
            }
        }
    }

    private static (MappingConfig Mapping, ModelRules Model) Setup(string rules)
    {
        var debezium = rules.StartsWith("debezium", StringComparison.Ordinal);
        var newerBy = rules.Contains("newer_by", StringComparison.Ordinal);
        var updateColumns = rules.Contains("update_columns", StringComparison.Ordinal);
        var keepAll = rules.EndsWith("update_columns, on_null keep", StringComparison.Ordinal);
        var columns = new List<ColumnMapping> { Column("id", "bigint", false), Column("version", "bigint", false) };
        columns.AddRange(s_texts.Select(t => Column(t, "text", true) with { OnNull = t == "note" && rules.Contains("note on_null keep", StringComparison.Ordinal) ? NullAction.Keep : null }));
        var mapping = new MappingConfig
        {
            Name = "items",
            File = "mappings/items.yaml",
            Topics = ["items"],
            Table = new TableName("public", "items"),
            Format = debezium ? MessageFormat.Debezium : MessageFormat.Json,
            Mode = WriteMode.Upsert,
            Key = ["id"],
            DeleteOnTombstone = !debezium,
            Columns = columns,
            NewerBy = newerBy ? "version" : null,
            UpdateColumns = !updateColumns ? null : newerBy ? ["version", "status", "body"] : ["status", "body"],
            OnNull = keepAll ? NullAction.Keep : NullAction.Overwrite,
            KeepUnavailableValues = debezium,
        };
        var upsert = UpsertRules.Of(mapping);
        return (mapping, new ModelRules(newerBy, upsert.Updated[1], upsert.Updated[2..], upsert.KeepOnNull[2..], debezium));
    }

    private static ColumnMapping Column(string name, string type, bool nullable)
    {
        Assert.True(SourcePath.TryParse($"value.{name}", out var from, out _));
        return new ColumnMapping(name, from!, ColumnType.Parse(type), nullable, null);
    }

    private static Change Generate(Random random, MessageFormat format)
    {
        var id = random.Next(1, Keys + 1);
        var version = random.Next(1, 7);
        if (random.Next(5) == 0)
        {
            // Json deletes are tombstones: no version. Debezium's before image may or may not carry it.
            return new Change(id, true, format == MessageFormat.Debezium && random.Next(2) == 0 ? version : null, []);
        }

        return new Change(id, false, version, [.. s_texts.Select(_ => random.Next(6) switch
        {
            0 => Field.Missing,
            1 => Field.Null,
            2 when format == MessageFormat.Debezium => Field.Unavailable,
            var n => Field.Of(((char)('a' + n)).ToString()),
        })]);
    }

    private static string Show(Change c) => c.IsDelete
        ? $"delete {c.Id} v{c.Version?.ToString() ?? "-"}"
        : $"write {c.Id} v{c.Version} " + string.Join(",", c.Fields.Select(f => f.Kind switch { FieldKind.Text => f.Text, FieldKind.Unavailable => "??", FieldKind.Null => "null", _ => "-" }));

    private static ConsumeResult<byte[]?, byte[]?> Message(Change change, MessageFormat format, long offset)
    {
        var row = new JsonObject { ["id"] = change.Id };
        if (change.Version is { } version)
        {
            row["version"] = version;
        }

        for (var c = 0; c < change.Fields.Length; c++)
        {
            var field = change.Fields[c];
            if (field.Kind != FieldKind.Missing)
            {
                row[s_texts[c]] = field.Kind switch
                {
                    FieldKind.Text => field.Text,
                    FieldKind.Unavailable => UpsertReferenceModel.Placeholder,
                    _ => null,
                };
            }
        }

        string? value = format == MessageFormat.Debezium
            ? new JsonObject
            {
                ["op"] = change.IsDelete ? "d" : "u",
                ["before"] = change.IsDelete ? row : null,
                ["after"] = change.IsDelete ? null : row,
                ["source"] = new JsonObject { ["lsn"] = offset },
            }.ToJsonString()
            : change.IsDelete ? null : row.ToJsonString();
        return new ConsumeResult<byte[]?, byte[]?>
        {
            TopicPartitionOffset = new TopicPartitionOffset("items", 0, offset),
            Message = new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes($"{{\"id\":{change.Id}}}"),
                Value = value is null ? null : Encoding.UTF8.GetBytes(value),
                Timestamp = new Timestamp(DateTime.UtcNow),
            },
        };
    }

    /// <summary>One batch as the sink writes it: converted by the batch converter, written in one transaction.</summary>
    private static async Task WriteBatchAsync(NpgsqlConnection connection, MappingConfig mapping, List<Change> changes, int firstOffset, bool isolate)
    {
        var batch = new WriteBatch(new BatchConverter([mapping]).NewBatch());
        var slice = batch.Slice(new TopicPartition("items", 0), epoch: 1, expectedOffset: null);
        for (var i = 0; i < changes.Count; i++)
        {
            var message = Message(changes[i], mapping.Format, firstOffset + i);
            batch.Content.Add(slice, message, RowSize.EstimateBytes(message));
        }

        var content = (ConvertedBatch)batch.Content;
        await content.CompleteAsync(batch);
        Assert.Empty(slice.DeadLetters.Select(d => d.ErrorMessage));
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        var result = await ChangeWriter.WriteAsync(connection, mapping, content.RowsOf(slice), isolate, Ct);
        Assert.Empty(result.Rejected.Select(r => r.Error.Message));
        await transaction.CommitAsync(Ct);
    }

    private static async Task<List<string>> RowsAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand("SELECT id, version, status, note, body FROM public.items ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<string>();
        while (await reader.ReadAsync(Ct))
        {
            rows.Add(UpsertReferenceModel.Show(reader.GetInt64(0), reader.GetInt64(1), Enumerable.Range(2, 3).Select(i => reader.IsDBNull(i) ? null : reader.GetString(i))));
        }

        return rows;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }
}
