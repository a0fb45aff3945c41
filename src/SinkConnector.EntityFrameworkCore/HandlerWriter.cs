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
    private readonly IDbContextFactory<TContext> _contexts;
    private readonly IServiceScopeFactory _scopes;
    private readonly KafkaSinkOptions _options;
    private readonly DeadLetterSettings _deadLetters;

    public HandlerWriter(IEnumerable<HandlerRegistration<TContext>> handlers, IDbContextFactory<TContext> contexts,
        IServiceScopeFactory scopes, KafkaSinkOptions options)
    {
        _handlers = handlers.ToDictionary(h => h.Topic, StringComparer.Ordinal);
        _contexts = contexts;
        _scopes = scopes;
        _options = options;
        _deadLetters = options.ToDeadLetterSettings();
        Topics = [.. _handlers.Keys.Order(StringComparer.Ordinal)];
    }

    public IReadOnlyCollection<string> Topics { get; }

    public IBatchContent NewContent() => new HandlerBatch();

    // Handlers read and then write (add to a total): a batch must see everything the one before it wrote, so two
    // batches are never in flight together (a later transaction does not see what an earlier one has not committed).
    public bool WritesExclusively(string topic) => true;

    public DbContext CreateContext() => _contexts.CreateDbContext();

    /// <summary>Deserializes the batch's messages; a value that is not a message becomes a dead letter of its slice.</summary>
    public Task PrepareAsync(WriteBatch batch, CancellationToken cancellationToken)
    {
        var content = (HandlerBatch)batch.Content;
        foreach (var (slice, result) in content.Received)
        {
            var handler = _handlers[result.Topic];
            if (result.Message.Value is not { } value)
            {
                continue; // A tombstone: nothing to handle; its offset advances with the batch.
            }

            try
            {
                if (handler.Deserialize(value) is { } message)
                {
                    content.Messages.Add(new HandledMessage(slice, result, message));
                }
            }
            catch (JsonException e)
            {
                slice.DeadLetters.Add(DeadLetterBuilder.From(handler.Name, _deadLetters, result, nameof(ConversionErrorKind.InvalidJson), e.Message));
            }
        }

        content.Received.Clear();
        return Task.CompletedTask;
    }

    public async Task<WrittenRows> WriteAsync(DbContext db, WriteBatch batch, bool isolateBadRows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(batch);
        var context = (TContext)db;
        var messages = ((HandlerBatch)batch.Content).Messages
            .Where(m => batch.Partitions.ContainsKey(m.Result.TopicPartition)).ToList();
        var transaction = db.Database.CurrentTransaction ?? throw new InvalidOperationException("the engine opens the batch's transaction");
        // The savepoints are this writer's own (one per batch; one per message only when isolating refused changes).
        db.Database.AutoSavepointsEnabled = false;
        await using var scope = _scopes.CreateAsyncScope();
        var rejected = new List<DeadLetter>();
        if (isolateBadRows)
        {
            // SaveChanges of the whole batch was refused (a constraint, a value): find the messages responsible, one
            // savepoint each (the slow path, taken only after such a refusal).
            foreach (var message in messages)
            {
                await transaction.CreateSavepointAsync(HandlersSavepoint, cancellationToken);
                var failure = await HandleAsync(scope.ServiceProvider, context, message, cancellationToken)
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
        for (var index = 0; index < left.Count; index++)
        {
            if (await HandleAsync(scope.ServiceProvider, context, left[index], cancellationToken) is { } failure)
            {
                // Everything the handlers did so far goes (entities and statements alike); the rest runs again without it.
                await RollBackAsync(transaction, context, cancellationToken);
                rejected.Add(failure);
                left = [.. left.Where((_, i) => i != index)];
                index = -1;
            }
        }

        await SaveChangesAsync(context, cancellationToken);
        return new WrittenRows(left.Count, rejected);
    }

    /// <summary>Runs a message's handler; returns its dead letter if it failed and dead-lettering is the policy.</summary>
    private async Task<DeadLetter?> HandleAsync(
        IServiceProvider services, TContext db, HandledMessage message, CancellationToken cancellationToken)
    {
        var handler = _handlers[message.Result.Topic];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.HandlerTimeout);
        using var call = HandlerGuard.Enter(handler.Name);
        Exception? error = null;
        try
        {
            // WaitAsync: a handler that ignores its token must not hold the batch (and its partitions) forever.
            await handler.HandleAsync(services, message.Value, message.Context, db, timeout.Token)
                .WaitAsync(_options.HandlerTimeout + TimeSpan.FromSeconds(5), cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            error = e;
        }

        call.Dispose();
        if (call.Misuse is { } misuse)
        {
            throw new SinkStoppedException(misuse);
        }

        if (error is TimeoutException)
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

        var kind = error is OperationCanceledException && timeout.IsCancellationRequested
            ? DeadLetterBuilder.HandlerTimeoutKind : DeadLetterBuilder.HandlerFailedKind;
        if (_options.OnError == HandlerErrorPolicy.Fail)
        {
            throw new SinkStoppedException($"handler {handler.Name} failed on {Describe(message)}: {ExceptionMessages.Chain(error, ": ")}");
        }

        return DeadLetterBuilder.From(handler.Name, _deadLetters, message.Result, kind, ExceptionMessages.Chain(error, ": "));
    }

    /// <summary>Isolation: saves one message's changes; returns its dead letter if Postgres refused them.</summary>
    private async Task<DeadLetter?> SaveAsync(TContext db, HandledMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await SaveChangesAsync(db, cancellationToken);
            return null;
        }
        catch (Exception e) when (PostgresErrors.IsDataError(e))
        {
            if (_options.OnError == HandlerErrorPolicy.Fail)
            {
                throw new SinkStoppedException($"the changes of handler {_handlers[message.Result.Topic].Name} for {Describe(message)} were refused: {e.Message}");
            }

            return DeadLetterBuilder.From(_handlers[message.Result.Topic].Name, _deadLetters, message.Result, DeadLetterBuilder.RejectedKind, e.Message);
        }
    }

    /// <summary>SaveChanges, with a refused change thrown as the <see cref="Npgsql.PostgresException"/> EF wraps, as the engine expects.</summary>
    private static async Task SaveChangesAsync(TContext db, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
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

    private static string Describe(HandledMessage message) =>
        $"{message.Result.Topic} [{message.Result.Partition.Value}] @{message.Result.Offset.Value}";
}
