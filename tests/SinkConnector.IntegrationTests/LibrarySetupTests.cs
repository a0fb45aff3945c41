using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SinkConnector.EntityFrameworkCore;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Library mode set up wrongly: the host stops with exit code 1 and one critical line that says what to fix, without
/// a stack trace (a setup mistake is not a crash), and nothing is consumed.
/// </summary>
public class LibrarySetupTests(TestServices services)
{
    public enum Mistake
    {
        NoHandler,
        NoContextFactory,
        InvalidOptions,
    }

    [Theory]
    [InlineData(Mistake.NoHandler, "AddKafkaSink<NotesContext>: no handler registered")]
    [InlineData(Mistake.NoContextFactory, "register it with services.AddDbContextFactory<NotesContext>")]
    [InlineData(Mistake.InvalidOptions, "KafkaSink:MaxBatchMessages: must be at least 1")]
    public async Task Setup_mistake_stops_the_host_with_exit_code_1_and_one_critical_line_without_a_stack_trace(Mistake mistake, string reason)
    {
        var run = await LibraryRun.RunAsync<NotesContext>(services, $"lib_setup_{mistake}", Notes.Json(1, 1), (builder, connectionString, topic) =>
        {
            if (mistake == Mistake.NoContextFactory)
            {
                builder.Services.AddDbContext<NotesContext>(o => o.UseNpgsql(connectionString));
            }
            else
            {
                builder.Services.AddDbContextFactory<NotesContext>(o => o.UseNpgsql(connectionString));
            }

            var sink = builder.Services.AddKafkaSink<NotesContext>(builder.Configuration.GetSection("KafkaSink"));
            if (mistake != Mistake.NoHandler)
            {
                sink.AddHandler<Note, NoteHandler>(topic);
            }
        }, mistake == Mistake.InvalidOptions ? [("KafkaSink:MaxBatchMessages", "0")] : []);

        Assert.Equal(1, run.ExitCode);
        var critical = Assert.Single(run.Logs.Lines, l => l.Contains(" Critical ", StringComparison.Ordinal));
        Assert.Contains("The Kafka consumer stopped: ", critical, StringComparison.Ordinal);
        Assert.Contains(reason, critical, StringComparison.Ordinal);
        Assert.DoesNotContain(run.Logs.Lines, l => l.Contains("   at ", StringComparison.Ordinal));
        Assert.Equal(0, await run.CommittedAsync());
    }

    [Fact]
    public async Task Sample_app_with_invalid_settings_exits_1_naming_the_key_without_a_stack_trace()
    {
        var bed = await OrdersAppBed.CreateAsync(services, "lib_setup_app", partitions: 1, seed: 1);
        using var app = bed.StartApp(("KafkaSink__GroupId", ""));
        await app.WaitForExitAsync(TimeSpan.FromMinutes(1));

        Assert.True(app.ExitCode == 1, app.Output);
        Assert.Contains("The Kafka consumer stopped: KafkaSink:GroupId: required", app.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", app.Output, StringComparison.Ordinal);
    }

    private sealed class NoteHandler : IMessageHandler<Note, NotesContext>
    {
        public Task HandleAsync(Note message, MessageContext context, NotesContext db, CancellationToken cancellationToken)
        {
            db.Add(message);
            return Task.CompletedTask;
        }
    }
}
