using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OrdersService.Migrations;

/// <inheritdoc />
public partial class InitialShop : Migration
{
    /// <inheritdoc />
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "customer_totals",
            columns: table => new
            {
                customer_id = table.Column<long>(type: "bigint", nullable: false),
                orders = table.Column<int>(type: "integer", nullable: false),
                total = table.Column<decimal>(type: "numeric(14,2)", precision: 14, scale: 2, nullable: false)
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_customer_totals", x => x.customer_id);
            });

        migrationBuilder.CreateTable(
            name: "orders",
            columns: table => new
            {
                id = table.Column<long>(type: "bigint", nullable: false),
                customer_id = table.Column<long>(type: "bigint", nullable: false),
                amount = table.Column<decimal>(type: "numeric(12,2)", precision: 12, scale: 2, nullable: false),
                placed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_orders", x => x.id);
            });
    }

    /// <inheritdoc />
    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(
            name: "customer_totals");

        migrationBuilder.DropTable(
            name: "orders");
    }
}
