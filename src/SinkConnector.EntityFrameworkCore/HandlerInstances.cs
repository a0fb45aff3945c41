using Microsoft.EntityFrameworkCore;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>
/// The handlers of one batch attempt, each resolved once from the attempt's scope: the documented contract ("resolved
/// once per batch attempt", so a field <c>PreloadAsync</c> set serves the batch's <c>HandleAsync</c> calls, whatever
/// lifetime the app registered the handler with), and no service lookup per message.
/// </summary>
internal sealed class HandlerInstances<TContext>(IServiceProvider scope)
    where TContext : DbContext
{
    private readonly Dictionary<HandlerRegistration<TContext>, object> _resolved = [];

    // Consecutive messages mostly share a handler (a partition's run): no lookup for them.
    private HandlerRegistration<TContext>? _last;
    private object? _lastInstance;

    public object Get(HandlerRegistration<TContext> handler)
    {
        if (handler == _last)
        {
            return _lastInstance!;
        }

        if (!_resolved.TryGetValue(handler, out var instance))
        {
            instance = handler.Resolve(scope);
            _resolved.Add(handler, instance);
        }

        _last = handler;
        _lastInstance = instance;
        return instance;
    }
}
