using System.IO.Compression;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Library mode as a .NET developer gets it: <c>dotnet pack</c> makes SinkConnector.EntityFrameworkCore and the two
/// packages it depends on, and an app outside this repository restores it from them and compiles against its API.
/// </summary>
public class LibraryPackageTests
{
    private static readonly string[] s_projects =
    [
        "src/SinkConnector/SinkConnector.csproj",
        "migrations/SinkConnector.Migrations/SinkConnector.Migrations.csproj",
        "src/SinkConnector.EntityFrameworkCore/SinkConnector.EntityFrameworkCore.csproj",
    ];

    [Fact]
    public async Task Packed_library_restores_into_an_app_outside_the_repository_and_its_api_compiles()
    {
        // A version of its own: the packages land in the machine's NuGet cache, where an older 1.0.0 may already be.
        var version = $"1.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}";
        var scratch = Directory.CreateTempSubdirectory("sink-library-").FullName;
        try
        {
            var packages = Directory.CreateDirectory(Path.Combine(scratch, "packages")).FullName;
            foreach (var project in s_projects)
            {
                var (packed, output) = await ToolPackageTests.RunAsync("dotnet",
                    ["pack", project, "-c", "Release", "-o", packages, $"-p:Version={version}", "--disable-build-servers", "-nologo"],
                    environment: null, TimeSpan.FromMinutes(5));
                Assert.True(packed == 0, output);
            }

            var library = Path.Combine(packages, $"SinkConnector.EntityFrameworkCore.{version}.nupkg");
            using (var zip = ZipFile.OpenRead(library))
            {
                Assert.NotNull(zip.GetEntry("README.md"));
                Assert.NotNull(zip.GetEntry("lib/net10.0/SinkConnector.EntityFrameworkCore.dll"));
                using var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
                var manifest = await nuspec.ReadToEndAsync(TestContext.Current.CancellationToken);
                Assert.Contains($"<dependency id=\"SinkConnector\" version=\"{version}\"", manifest, StringComparison.Ordinal);
                Assert.Contains($"<dependency id=\"SinkConnector.Migrations\" version=\"{version}\"", manifest, StringComparison.Ordinal);
            }

            var app = Directory.CreateDirectory(Path.Combine(scratch, "app")).FullName;
            await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="sink" value="{packages}" />
                  </packageSources>
                </configuration>
                """, TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(Path.Combine(app, "App.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                    <NoWarn>NU1603</NoWarn>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="SinkConnector.EntityFrameworkCore" Version="{version}" />
                  </ItemGroup>
                </Project>
                """, TestContext.Current.CancellationToken);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
                using Microsoft.EntityFrameworkCore;
                using Microsoft.Extensions.DependencyInjection;
                using Microsoft.Extensions.Hosting;
                using SinkConnector.EntityFrameworkCore;

                var builder = Host.CreateApplicationBuilder(args);
                builder.Services.AddDbContextFactory<ShopDb>(o => o.UseNpgsql("Host=localhost"));
                builder.Services.AddKafkaSink<ShopDb>(builder.Configuration.GetSection("KafkaSink"))
                    .AddHandler<Placed, PlacedHandler>("order-placed");

                public sealed record Placed(long Id);

                public sealed class ShopDb(DbContextOptions<ShopDb> options) : DbContext(options);

                public sealed class PlacedHandler : IMessageHandler<Placed, ShopDb>
                {
                    public Task HandleAsync(Placed message, MessageContext context, ShopDb db, CancellationToken cancellationToken) =>
                        Task.CompletedTask;
                }
                """, TestContext.Current.CancellationToken);
            var (built, buildOutput) = await ToolPackageTests.RunAsync("dotnet",
                ["build", Path.Combine(app, "App.csproj"), "--disable-build-servers", "-nologo"], environment: null, TimeSpan.FromMinutes(5));
            Assert.True(built == 0, buildOutput);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
            var cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            foreach (var id in new[] { "sinkconnector", "sinkconnector.migrations", "sinkconnector.entityframeworkcore" })
            {
                var folder = Path.Combine(cache, id, version);
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
        }
    }
}
