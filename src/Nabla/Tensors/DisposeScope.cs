namespace Nabla;

// Note [Dispose scopes]
// As TorchSharp's: torch.NewDisposeScope() opens a scope on the current thread; every tensor constructed on that
// thread while it is the innermost open scope is registered with it, and disposing the scope disposes those tensors
// (their storage references; buffers whose count drops to zero go back to MemoryPool, Note [Storage reference
// count]). A tensor remembers its scope in _scope; moving it out only re-points _scope (and appends it to the outer
// scope's list), so the scope skips tensors whose _scope is no longer itself: moving is O(1).
// Tensors that outlive a training step by design are detached by the code that creates them: the engine's .grad
// (AccumulateGrad, retain_grad) and optimizer state (SGD momentum buffers, Adam moments), so a training loop in a
// scope stays correct.

/// <summary>
/// A set of tensors disposed together, as TorchSharp's <c>DisposeScope</c>: open one with
/// <see cref="torch.NewDisposeScope"/> (<c>using (torch.NewDisposeScope()) { ... }</c>); every tensor created on this
/// thread while it is the innermost open scope is disposed when it ends, except those moved out with
/// <see cref="Tensor.MoveToOuterDisposeScope"/> or <see cref="Tensor.DetachFromDisposeScope"/>. Gradients
/// (<c>.grad</c>) and optimizer state are never captured by a scope.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] static DisposeScope? _current;

    readonly List<Tensor> _tensors = new();
    readonly DisposeScope? _outer;
    readonly Thread _thread;
    bool _disposed;

    internal DisposeScope()
    {
        _thread = Thread.CurrentThread;
        _outer = _current;
        _current = this;
    }

    /// <summary>The scope that was innermost when this one was opened (null for an outermost scope).</summary>
    public DisposeScope? OuterScope => _outer;

    /// <summary>How many tensors this scope will dispose.</summary>
    public long DisposablesCount
    {
        get
        {
            long n = 0;
            foreach (var t in _tensors)
                if (ReferenceEquals(t._scope, this) && !t._disposed) n++;
            return n;
        }
    }

    /// <summary>Whether <paramref name="tensor"/> would be disposed by this scope.</summary>
    public bool Contains(Tensor tensor) => ReferenceEquals(tensor._scope, this);

    /// <summary>Moves <paramref name="tensors"/> to the scope outside this one (or out of every scope) and returns them.</summary>
    public Tensor[] MoveToOuter(params Tensor[] tensors)
    {
        foreach (var t in tensors) t.MoveToOuterDisposeScope();
        return tensors;
    }

    /// <summary>Takes <paramref name="tensors"/> out of this scope: they are not disposed with it.</summary>
    public Tensor[] Detach(params Tensor[] tensors)
    {
        foreach (var t in tensors)
            if (ReferenceEquals(t._scope, this)) t._scope = null;
        return tensors;
    }

    /// <summary>Disposes every tensor still registered with this scope and closes it; inner scopes still open are closed too.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (Thread.CurrentThread != _thread)
            throw new InvalidOperationException("A dispose scope must be disposed on the thread that opened it.");
        // Close inner scopes still open (a scope disposed out of order), then this one.
        while (_current is not null && !ReferenceEquals(_current, this) && IsInner(_current)) _current.Dispose();
        _disposed = true;
        if (ReferenceEquals(_current, this)) _current = _outer;
        var tensors = _tensors;
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            if (ReferenceEquals(t._scope, this)) t.Dispose();
        }
        tensors.Clear();
    }

    bool IsInner(DisposeScope s)
    {
        for (var o = s._outer; o is not null; o = o._outer)
            if (ReferenceEquals(o, this)) return true;
        return false;
    }

    /// <summary>Registers a tensor being constructed with the innermost open scope of this thread, if any.</summary>
    internal static void Register(Tensor t)
    {
        var scope = _current;
        if (scope is null) return;
        t._scope = scope;
        scope._tensors.Add(t);
    }

    internal void Adopt(Tensor t)
    {
        t._scope = this;
        _tensors.Add(t);
    }
}

public sealed partial class Tensor
{
    /// <summary>
    /// Moves this tensor from its dispose scope to the scope outside it (or out of every scope when there is none)
    /// and returns it, as TorchSharp's <c>MoveToOuterDisposeScope</c>.
    /// </summary>
    public Tensor MoveToOuterDisposeScope()
    {
        var scope = _scope;
        if (scope is null) return this;
        var outer = scope.OuterScope;
        if (outer is null) _scope = null;
        else outer.Adopt(this);
        return this;
    }

    /// <summary>Takes this tensor out of its dispose scope (it will not be disposed with any scope) and returns it.</summary>
    public Tensor DetachFromDisposeScope()
    {
        _scope = null;
        return this;
    }
}

public static partial class torch
{
    /// <summary>
    /// Opens a dispose scope on this thread (see <see cref="DisposeScope"/>): tensors created until it is disposed
    /// are disposed with it, and their buffers are recycled by <see cref="MemoryPool"/>.
    /// </summary>
    public static DisposeScope NewDisposeScope() => new();
}
