using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using SinkConnector.Configuration;
using SinkConnector.DeadLetters;
using SinkConnector.Engine;
using SinkConnector.Failures;
using SinkConnector.Mapping;
using SinkConnector.Schema;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>
/// The engine's writer in library mode: each message of a batch goes to its topic's handler, which changes entities
/// of the app's <typeparamref name="TContext"/>; one <c>SaveChanges</c> per batch, inside the transaction in which the
/// engine then stores the batch's offsets (<see cref="BatchTransaction"/>). A handler that fails is left out: its
/// changes (and every other handler's) are rolled back to a savepoint, the change tracker cleared, the handlers run
/// again without it, and it becomes a dead letter in the same transaction.
/// </summary>
internal sealed class HandlerWriter<TContext> : IBatchWriter
    where TContext : DbContext
{
    private const string HandlersSavepoint = "sink_handlers";

    private readonly Dictionary<string, HandlerRegistration<TContext>> _handlers;
    private readonly List<HandlerRegistration<TContext>> _preloading;
    private readonly MessageDeserialization<TContext> _deserialization;
    private readonly IDbContextFactory<TContext> _contexts;
    private readonly IServiceScopeFactory _scopes;
    private readonly KafkaSinkOptions _options;

    /// <summary>How much longer than <see cref="KafkaSinkOptions.HandlerTimeout"/> a batch transaction may sit idle before the server ends it.</summary>
    private static readonly TimeSpan s_idleMargin = TimeSpan.FromSeconds(30);
    private readonly DeadLetterSettings _deadLetters;

    /// <summary>The <c>application_name</c> the commit-stall report (event 1033) looks for: the batch transaction takes it on.</summary>
    private readonly string _applicationName;

    public HandlerWriter(IEnumerable<HandlerRegistration<TContext>> handlers, IDbContextFactory<TContext> contexts,
        IServiceProvider services, KafkaSinkOptions options, string applicationName)
    {
        _applicationName = applicationName;
        var scopes = services.GetRequiredService<IServiceScopeFactory>();
        _handlers = handlers.ToDictionary(h => h.Topic, StringComparer.Ordinal);
        _preloading = [.. _handlers.Values.Where(h => h.Preloads)];
        _contexts = contexts;
        _scopes = scopes;
        _options = options;
        _deadLetters = options.ToDeadLetterSettings();
        _deserialization = new MessageDeserialization<TContext>(
            _handlers, _handlers.ToDictionary(h => h.Key, h => h.Value.CreateDeserializer(services), StringComparer.Ordinal), _deadLetters);
        Topics = [.. _handlers.Keys.Order(StringComparer.Ordinal)];
    }

    public IReadOnlyCollection<string> Topics { get; }

    public IBatchContent NewContent() => new HandlerBatch<TContext>(_deserialization);

    // Handlers read and then write (add to a total): a batch must see everything the one before it wrote, so two
    // batches are never in flight together (a later transaction does not see what an earlier one has not committed).
    public bool WritesExclusively(string topic) => true;

    public DbContext CreateContext() => _contexts.CreateDbContext();

    /// <summary>
    /// Collects the batch's messages, deserialized while it filled; a value that is not a message became a dead letter
    /// of its slice. When the schema registry does not answer, the engine calls again after a backoff, and what failed
    /// is deserialized again.
    /// </summary>
    public Task PrepareAsync(WriteBatch batch, CancellationToken cancellationToken) => ((HandlerBatch<TContext>)batch.Content).CompleteAsync();

    public async Task<WrittenRows> WriteAsync(DbContext db, WriteBatch batch, bool isolateBadRows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(batch);
        var context = (TContext)db;
        var messages = ((HandlerBatch<TContext>)batch.Content).MessagesOf(batch);
        var transaction = db.Database.CurrentTransaction ?? throw new InvalidOperationException("the engine opens the batch's transaction");
        // A frozen app (SIGSTOP, a VM pause) mid-batch keeps the rows its handlers changed and its offset rows locked,
        // and the next owner would wait for them until it thaws. The sink's own connections carry a server-side limit
        // (SinkDatabase); the app's connection string does not, so each batch transaction sets one for itself, longer
        // than a handler may take (the session is idle in its transaction while handler code runs). It also carries the
        // app's application_name (or none): named as the sink's for the transaction, a stalled batch shows in the stall
        // report (event 1033). Both are local: the session's own values come back at commit or rollback.
        var idleLimit = (long)(_options.HandlerTimeout + s_idleMargin).TotalMilliseconds;
        await db.Database.ExecuteSqlRawAsync(
            "SELECT set_config('idle_in_transaction_session_timeout', {0}, true), set_config('application_name', {1}, true)",
            [idleLimit.ToString(CultureInfo.InvariantCulture), _applicationName], cancellationToken);
        // The savepoints are this writer's own (one per batch; one per message only when isolating refused changes).
        db.Database.AutoSavepointsEnabled = false;
        await using var scope = _scopes.CreateAsyncScope();
        using var timeouts = new HandlerTimeouts(_options.HandlerTimeout, cancellationToken);
        var calls = new BatchCalls(new HandlerInstances<TContext>(scope.ServiceProvider), timeouts, HandlerGuard.Enter());
        var rejected = new List<DeadLetter>();
        if (isolateBadRows)
        {
            // SaveChanges of the whole batch was refused (a constraint, a value): find the messages responsible, one
            // savepoint each (the slow path, taken only after such a refusal).
            foreach (var message in messages)
            {
                await transaction.CreateSavepointAsync(HandlersSavepoint, cancellationToken);
                // A rollback of the message before cleared the tracker: what this one's handler relies on is loaded again.
                await PreloadAsync(calls, context, [message], cancellationToken);
                var failure = await HandleAsync(calls, context, message, cancellationToken)
                    ?? await SaveAsync(context, message, cancellationToken);
                if (failure is not null)
                {
                    await RollBackAsync(transaction, context, cancellationToken);
                    rejected.Add(failure);
                }
            }

            return new WrittenRows(messages.Count - rejected.Count, rejected);
        }

        await transaction.CreateSavepointAsync(HandlersSavepoint, cancellationToken);
        var left = messages;
        await PreloadAsync(calls, context, left, cancellationToken);
        for (var index = 0; index < left.Count; index++)
        {
            // Most handlers complete synchronously (they add or change tracked entities): no await per message then.
            var handled = HandleAsync(calls, context, left[index], cancellationToken);
            if ((handled.IsCompletedSuccessfully ? handled.Result : await handled) is { } failure)
            {
                // Everything the handlers did so far goes (entities and statements alike); the rest runs again without it,
                // after the preloads (the tracker they filled was cleared).
                await RollBackAsync(transaction, context, cancellationToken);
                rejected.Add(failure);
                left = [.. left.Where((_, i) => i != index)];
                index = -1;
                await PreloadAsync(calls, context, left, cancellationToken);
            }
        }

        await SaveChangesAsync(context, acceptAllChanges: false, cancellationToken);
        return new WrittenRows(left.Count, rejected);
    }

    /// <summary>
    /// Each preloading handler's <see cref="IPreloadingMessageHandler{TMessage, TContext}.PreloadAsync"/> with its topic's
    /// values among <paramref name="messages"/>. A failure stops the consumer: it names no message that could be left out.
    /// </summary>
    private async Task PreloadAsync(BatchCalls calls, TContext db, List<HandledMessage<TContext>> messages, CancellationToken cancellationToken)
    {
        foreach (var handler in _preloading)
        {
            var values = messages.Where(m => m.Value is not null && m.Handler == handler).Select(m => m.Value!).ToList();
            if (values.Count == 0)
            {
                continue;
            }

            var (error, misuse, timedOut) = await CallAsync(handler, calls,
                static (state, token) => state.Handler.PreloadAsync(state.Instance, state.Values, state.Db, token),
                (Handler: handler, Instance: calls.Handlers.Get(handler), Values: values, Db: db), cancellationToken);
            if (misuse is not null)
            {
                throw new SinkStoppedException(misuse);
            }

            if (timedOut && error is not null)
            {
                throw new SinkStoppedException(
                    $"handler {handler.Name} did not finish PreloadAsync of {values.Count} message(s) within {_options.HandlerTimeout}");
            }

            if (error is null)
            {
                continue;
            }

            if (PostgresErrors.Classify(error) is PostgresFailure.Transient)
            {
                ExceptionDispatchInfo.Throw(error);
            }

            throw new SinkStoppedException(
                $"handler {handler.Name} failed in PreloadAsync of {values.Count} message(s) ({Describe(messages[0])} first): {ExceptionMessages.Chain(error, ": ")}");
        }
    }

    /// <summary>Runs a message's handler; returns its dead letter if it failed and dead-lettering is the policy.</summary>
    private ValueTask<DeadLetter?> HandleAsync(BatchCalls calls, TContext db, HandledMessage<TContext> message, CancellationToken cancellationToken)
    {
        var handler = message.Handler;
        var call = CallAsync(handler, calls,
            static (state, token) => state.Handler.HandleAsync(state.Instance, state.Message.Value, state.Message.Context, state.Db, token),
            (Handler: handler, Instance: calls.Handlers.Get(handler), Message: message, Db: db), cancellationToken);
        return call.IsCompletedSuccessfully ? new(Judge(message, call.Result)) : JudgeAsync(message, call);
    }

    private async ValueTask<DeadLetter?> JudgeAsync(HandledMessage<TContext> message, ValueTask<(Exception? Error, string? Misuse, bool TimedOut)> call) =>
        Judge(message, await call);

    /// <summary>What a handler call's outcome means: nothing (it succeeded), a dead letter, or a stop (thrown).</summary>
    private DeadLetter? Judge(HandledMessage<TContext> message, (Exception? Error, string? Misuse, bool TimedOut) outcome)
    {
        var (error, misuse, timedOut) = outcome;
        var handler = message.Handler;
        if (misuse is not null)
        {
            throw new SinkStoppedException(misuse);
        }

        if (error is TimeoutException && timedOut)
        {
            // The handler may still be running on this context: nothing more can be done with it safely.
            throw new SinkStoppedException(
                $"handler {handler.Name} did not finish within {_options.HandlerTimeout} and ignored its cancellation token ({Describe(message)})");
        }

        if (error is null)
        {
            return null;
        }

        // Transient: the engine retries the whole batch. Fatal (a missing table, a privilege): every message would fail
        // alike, so the consumer stops instead of dead-lettering them all.
        if (PostgresErrors.Classify(error) is PostgresFailure.Transient or PostgresFailure.Fatal)
        {
            ExceptionDispatchInfo.Throw(error);
        }

        var kind = error is OperationCanceledException && timedOut
            ? DeadLetterBuilder.HandlerTimeoutKind : DeadLetterBuilder.HandlerFailedKind;
        if (_options.OnError == HandlerErrorPolicy.Fail)
        {
            throw new SinkStoppedException($"handler {handler.Name} failed on {Describe(message)}: {ExceptionMessages.Chain(error, ": ")}");
        }

        return DeadLetterBuilder.From(handler.Name, _deadLetters, message.Result, kind, ExceptionMessages.Chain(error, ": "));
    }

    /// <summary>
    /// One call into a handler, bounded by <see cref="KafkaSinkOptions.HandlerTimeout"/> and watched by the
    /// <see cref="HandlerGuard"/>: its error (null if it succeeded), the misuse it committed, and whether it overran
    /// the timeout (then a <see cref="TimeoutException"/> says it ignored its token too). Runs once per message: a
    /// handler that completes synchronously (adds or changes tracked entities) costs no await, closure or timer of its own.
    /// </summary>
    private ValueTask<(Exception? Error, string? Misuse, bool TimedOut)> CallAsync<TState>(
        HandlerRegistration<TContext> handler, BatchCalls calls, Func<TState, CancellationToken, Task> call, TState state,
        CancellationToken cancellationToken)
    {
        var token = calls.Timeouts.Start();
        calls.Guard.Begin(handler.Name);
        Task task;
        try
        {
            task = call(state, token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            task = Task.FromException(e);
        }
        catch
        {
            calls.Guard.End();
            throw;
        }

        if (!task.IsCompletedSuccessfully)
        {
            return AwaitCallAsync(task, calls, cancellationToken);
        }

        var misuse = calls.Guard.End();
        return new((null, misuse, calls.Timeouts.Stop()));
    }

    private async ValueTask<(Exception? Error, string? Misuse, bool TimedOut)> AwaitCallAsync(
        Task task, BatchCalls calls, CancellationToken cancellationToken)
    {
        Exception? error = null;
        string? misuse;
        try
        {
            // WaitAsync: a handler that ignores its token must not hold the batch (and its partitions) forever.
            await task.WaitAsync(_options.HandlerTimeout + TimeSpan.FromSeconds(5), cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            error = e;
        }
        finally
        {
            misuse = calls.Guard.End();
        }

        return (error, misuse, calls.Timeouts.Stop());
    }

    /// <summary>Isolation: saves one message's changes; returns its dead letter if Postgres refused them.</summary>
    private async Task<DeadLetter?> SaveAsync(TContext db, HandledMessage<TContext> message, CancellationToken cancellationToken)
    {
        try
        {
            await SaveChangesAsync(db, acceptAllChanges: true, cancellationToken);
            return null;
        }
        catch (Exception e) when (PostgresErrors.IsDataError(e))
        {
            if (_options.OnError == HandlerErrorPolicy.Fail)
            {
                throw new SinkStoppedException($"the changes of handler {message.Handler.Name} for {Describe(message)} were refused: {e.Message}");
            }

            return DeadLetterBuilder.From(message.Handler.Name, _deadLetters, message.Result, DeadLetterBuilder.RejectedKind, e.Message);
        }
    }

    /// <summary>SaveChanges, with a refused change thrown as the <see cref="Npgsql.PostgresException"/> EF wraps, as the engine expects.</summary>
    private static async Task SaveChangesAsync(TContext db, bool acceptAllChanges, CancellationToken cancellationToken)
    {
        try
        {
            await BatchSave<TContext>.SaveAsync(db, acceptAllChanges, cancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is { } inner && PostgresErrors.IsDataError(inner))
        {
            ExceptionDispatchInfo.Throw(inner);
        }
    }

    private static async Task RollBackAsync(IDbContextTransaction transaction, TContext db, CancellationToken cancellationToken)
    {
        await transaction.RollbackToSavepointAsync(HandlersSavepoint, cancellationToken);
        db.ChangeTracker.Clear();
    }

    /// <summary>What the handler calls of one batch attempt share: its handler instances and the re-armed timeout.</summary>
    private sealed record BatchCalls(HandlerInstances<TContext> Handlers, HandlerTimeouts Timeouts, HandlerGuard.GuardedCalls Guard);

    private static string Describe(HandledMessage<TContext> message) =>
        $"{message.Result.Topic} [{message.Result.Partition.Value}] @{message.Result.Offset.Value}";
}
