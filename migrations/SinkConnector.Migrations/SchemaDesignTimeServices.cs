using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Design.Internal;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations.Design;
using Microsoft.EntityFrameworkCore.Migrations.Operations;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using SinkConnector.Schema;

namespace SinkConnector.Migrations;

/// <summary>
/// Makes <c>dotnet ef migrations add</c> write migrations and the model snapshot the way this assembly keeps them:
/// schema-neutral (the schema is the configured <c>postgres.schema</c>, passed in at run time by
/// <see cref="SchemaMigrationsAssembly"/>), as <see cref="SchemaMigration"/> and <see cref="SchemaModelSnapshot"/>.
/// EF finds this class in the startup project, which is this project.
/// </summary>
/// <remarks>
/// Only <c>dotnet ef</c> loads it: the Design package it builds on is not deployed with the sink, where the runtime
/// skips this type (see SchemaMigrationsAssembly).
/// </remarks>
public sealed class SchemaDesignTimeServices : IDesignTimeServices
{
    public void ConfigureDesignTimeServices(IServiceCollection serviceCollection)
    {
        serviceCollection.AddSingleton<ICSharpHelper, SchemaCSharpHelper>();
        serviceCollection.AddSingleton<IMigrationsCodeGenerator, SchemaMigrationsGenerator>();
    }
}

/// <summary>The design-time schema's name becomes the <c>Schema</c> property wherever scaffolded code would spell it.</summary>
[SuppressMessage("Usage", "EF1001:Internal EF Core API usage.", Justification = "ICSharpHelper is the design-time hook for literals in scaffolded code.")]
internal sealed class SchemaCSharpHelper(ITypeMappingSource typeMappingSource) : CSharpHelper(typeMappingSource)
{
    public override string Literal(string? value) =>
        value == DesignTimeSinkDbContextFactory.Schema ? "Schema" : base.Literal(value);
}

/// <summary>
/// EF's C# generator, with the base classes that take the schema, and a file-scoped namespace for the migration
/// (the code style of the repository; the designer and snapshot files are marked auto-generated).
/// </summary>
internal sealed partial class SchemaMigrationsGenerator(
    MigrationsCodeGeneratorDependencies dependencies,
    CSharpMigrationsGeneratorDependencies csharpDependencies)
    : CSharpMigrationsGenerator(dependencies, csharpDependencies)
{
    public override string GenerateMigration(
        string? migrationNamespace,
        string migrationName,
        IReadOnlyList<MigrationOperation> upOperations,
        IReadOnlyList<MigrationOperation> downOperations)
    {
        var code = ReplaceBaseClass(
            base.GenerateMigration(migrationNamespace, migrationName, upOperations, downOperations),
            "Migration",
            $"(string schema) : {typeof(SchemaMigration).FullName}(schema)");
        return FileScopedNamespace(code);
    }

    public override string GenerateSnapshot(string? modelSnapshotNamespace, Type contextType, string modelSnapshotName, IModel model) =>
        ReplaceBaseClass(
            base.GenerateSnapshot(modelSnapshotNamespace, contextType, modelSnapshotName, model),
            "ModelSnapshot",
            $"(string schema) : {typeof(SchemaModelSnapshot).FullName}(schema)");

    private static string ReplaceBaseClass(string code, string baseClass, string replacement)
    {
        var declaration = new Regex($@"^(\s*(?:public )?partial class \w+) : {baseClass}$", RegexOptions.Multiline);
        if (!declaration.IsMatch(code))
        {
            throw new InvalidOperationException($"The scaffolded code has no class deriving from {baseClass}; EF's generator changed.");
        }

        return declaration.Replace(code, m => m.Groups[1].Value + replacement, 1);
    }

    private static string FileScopedNamespace(string code)
    {
        var match = BlockNamespace().Match(code);
        if (!match.Success)
        {
            return code;
        }

        var body = Regex.Replace(match.Groups["body"].Value, "^    ", string.Empty, RegexOptions.Multiline);
        return code[..match.Index] + match.Groups["declaration"].Value + ";" + Environment.NewLine + Environment.NewLine + body;
    }

    [GeneratedRegex(@"^(?<declaration>namespace [\w.]+)\r?\n\{\r?\n(?<body>.*)^\}\s*\z", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex BlockNamespace();
}
