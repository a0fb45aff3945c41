using Microsoft.EntityFrameworkCore.Migrations;
using SinkConnector.Schema;

namespace SinkConnector.Migrations;

/// <summary>
/// Dead letters belong to the connector (consumer group) that wrote them: connectors sharing <c>postgres.schema</c>
/// each keep their own, and a message read again updates its dead letter instead of violating the unique index.
/// </summary>
/// <remarks>
/// Existing dead letters get the group that has stored offsets for their topic when exactly one group has; when
/// none or several have, the migration cannot know whose they are and leaves <c>group_id</c> NULL: no connector's
/// <c>sink dlq</c> commands show, replay or purge them until an operator assigns them
/// (<c>UPDATE &lt;schema&gt;.dead_letters SET group_id = '...' WHERE group_id IS NULL AND ...</c>).
/// Its designer file holds the model after it (what <c>dotnet ef migrations remove</c> goes back to).
/// </remarks>
public sealed partial class DeadLettersPerConnector(string schema) : SchemaMigration(schema)
{
    private const string OldUniqueIndex = "ix_dead_letters_topic_partition_offset_mapping";
    private const string UniqueIndex = "ix_dead_letters_group_id_topic_partition_offset_mapping";

    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<string>(name: "group_id", schema: Schema, table: "dead_letters", type: "text", nullable: true);

        // The semicolons matter: the idempotent script (`sink migrate --script`) puts each statement inside a DO block.
        migrationBuilder.Sql(
            $"""
            UPDATE {Sql.Table(Schema, "dead_letters")} d SET group_id = o.group_id
            FROM (SELECT topic, min(group_id) AS group_id FROM {Sql.Table(Schema, "offsets")} GROUP BY topic HAVING count(DISTINCT group_id) = 1) o
            WHERE d.topic = o.topic;
            """);

        migrationBuilder.DropIndex(name: OldUniqueIndex, schema: Schema, table: "dead_letters");
        migrationBuilder.CreateIndex(
            name: UniqueIndex,
            schema: Schema,
            table: "dead_letters",
            columns: ["group_id", "topic", "partition", "offset", "mapping"],
            unique: true);
    }

    /// <summary>Back to one dead letter per message and mapping: of several connectors' dead letters of a message, the oldest stays.</summary>
    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropIndex(name: UniqueIndex, schema: Schema, table: "dead_letters");
        migrationBuilder.Sql(
            $"""
            DELETE FROM {Sql.Table(Schema, "dead_letters")} d
            WHERE EXISTS (
                SELECT 1 FROM {Sql.Table(Schema, "dead_letters")} o
                WHERE o.topic = d.topic AND o.partition = d.partition AND o."offset" = d."offset" AND o.mapping = d.mapping AND o.id < d.id);
            """);
        migrationBuilder.DropColumn(name: "group_id", schema: Schema, table: "dead_letters");
        migrationBuilder.CreateIndex(
            name: OldUniqueIndex,
            schema: Schema,
            table: "dead_letters",
            columns: ["topic", "partition", "offset", "mapping"],
            unique: true);
    }
}
