using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using SinkConnector.Schema;

namespace SinkConnector.Migrations;

/// <summary>The offsets table of the exactly-once protocol and the dead-letter table.</summary>
[DbContext(typeof(SinkDbContext))]
[Migration("20261121120000_InitialSchema")]
public sealed class InitialSchema(string schema) : SchemaMigration(schema)
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.EnsureSchema(Schema);

        migrationBuilder.CreateTable(
            name: "offsets",
            schema: Schema,
            columns: table => new
            {
                group_id = table.Column<string>(type: "text", nullable: false),
                topic = table.Column<string>(type: "text", nullable: false),
                partition = table.Column<int>(type: "integer", nullable: false),
                next_offset = table.Column<long>(type: "bigint", nullable: true),
                epoch = table.Column<long>(type: "bigint", nullable: false),
                owner = table.Column<string>(type: "text", nullable: true),
                updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_offsets", x => new { x.group_id, x.topic, x.partition }));

        migrationBuilder.CreateTable(
            name: "dead_letters",
            schema: Schema,
            columns: table => new
            {
                id = table.Column<long>(type: "bigint", nullable: false)
                    .Annotation("Npgsql:ValueGenerationStrategy", Npgsql.EntityFrameworkCore.PostgreSQL.Metadata.NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                mapping = table.Column<string>(type: "text", nullable: false),
                topic = table.Column<string>(type: "text", nullable: false),
                partition = table.Column<int>(type: "integer", nullable: false),
                offset = table.Column<long>(type: "bigint", nullable: false),
                kafka_timestamp = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                key = table.Column<byte[]>(type: "bytea", nullable: true),
                value = table.Column<byte[]>(type: "bytea", nullable: true),
                headers = table.Column<string>(type: "jsonb", nullable: true),
                error_kind = table.Column<string>(type: "text", nullable: false),
                error_message = table.Column<string>(type: "text", nullable: false),
                created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()"),
            },
            constraints: table => table.PrimaryKey("pk_dead_letters", x => x.id));

        migrationBuilder.CreateIndex(
            name: "ix_dead_letters_topic_partition_offset_mapping",
            schema: Schema,
            table: "dead_letters",
            columns: ["topic", "partition", "offset", "mapping"],
            unique: true);

        migrationBuilder.CreateIndex(
            name: "ix_dead_letters_mapping_error_kind",
            schema: Schema,
            table: "dead_letters",
            columns: ["mapping", "error_kind"]);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(name: "dead_letters", schema: Schema);
        migrationBuilder.DropTable(name: "offsets", schema: Schema);
    }
}
