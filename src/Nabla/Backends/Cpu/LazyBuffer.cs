using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Nabla.Kernels.Cpu;

namespace Nabla.Backends.Cpu;

// The buffer protocol of lazy fusion (Note [Lazy fusion] in LazyFusion.cs).

/// <summary>An expression that writes a deferred buffer (Note [Lazy fusion]).</summary>
internal abstract class PendingExpr<T> where T : unmanaged
{
    /// <summary>The distinct source buffers the expression reads.</summary>
    internal abstract BufferHandle<T>[] Sources { get; }

    /// <summary>Writes the expression's values into dst[start..start+length).</summary>
    internal abstract void Evaluate(T[] dst, int start, int length);
}

/// <summary>The lazy state of one buffer: pending expression, and the deferred results still reading it (Note [Lazy fusion]).</summary>
internal sealed class LazyBuffer<T> where T : unmanaged
{
    readonly BufferHandle<T> _handle;
    readonly int _start, _length;

    /// <summary>The element array (null once the buffer was released or rehomed).</summary>
    internal T[]? Backing;

    /// <summary>The expression still to be written into <see cref="Backing"/> (null once evaluated or dropped).</summary>
    internal PendingExpr<T>? Pending;

    List<WeakReference<LazyBuffer<T>>>? _readers;

    internal LazyBuffer(BufferHandle<T> handle, T[] backing, int start, int length, PendingExpr<T>? pending)
    {
        _handle = handle;
        Backing = backing;
        _start = start;
        _length = length;
        Pending = pending;
    }

    /// <summary>The slow path of <c>Storage&lt;T&gt;.Array</c>: evaluate, force the readers, publish.</summary>
    internal T[] Resolve(BufferHandle<T> h)
    {
        while (true)
        {
            LazyBuffer<T>? reader = null;
            lock (this)
            {
                var backing = Backing ?? CpuStorage<T>.ThrowDisposed();
                if (Pending is not null) EvaluateLocked();
                reader = NextReaderLocked();
                if (reader is null)
                {
                    Volatile.Write(ref h.Array, backing);
                    return backing;
                }
            }
            reader.Materialize(); // outside our lock: it takes its own lock, then ours (to unregister)
        }
    }

    LazyBuffer<T>? NextReaderLocked()
    {
        if (_readers is null) return null;
        for (int i = _readers.Count - 1; i >= 0; i--)
        {
            if (_readers[i].TryGetTarget(out var r) && r.Pending is not null) return r;
            _readers.RemoveAt(i); // collected, or already evaluated/dropped
        }
        return null;
    }

    /// <summary>Evaluates the pending expression, if any.</summary>
    internal void Materialize()
    {
        lock (this)
        {
            if (Pending is not null && Backing is not null) EvaluateLocked();
        }
    }

    void EvaluateLocked()
    {
        var expr = Pending!;
        expr.Evaluate(Backing!, _start, _length);
        Pending = null;
        if (NextReaderLocked() is null) Volatile.Write(ref _handle.Array, Backing);
        ReleaseSources(expr);
    }

    void ReleaseSources(PendingExpr<T> expr)
    {
        foreach (var s in expr.Sources)
        {
            s.Lazy!.Unregister(this);
            s.Release();
        }
    }

    void Unregister(LazyBuffer<T> reader)
    {
        lock (this)
        {
            if (_readers is null) return;
            for (int i = _readers.Count - 1; i >= 0; i--)
                if (!_readers[i].TryGetTarget(out var r) || ReferenceEquals(r, reader)) _readers.RemoveAt(i);
            if (Pending is null && Backing is not null && NextReaderLocked() is null) Volatile.Write(ref _handle.Array, Backing);
        }
    }

    /// <summary>
    /// Makes <paramref name="reader"/> a pending reader of <paramref name="source"/>: one more reference on the source
    /// buffer, and its published array hidden until the reader is evaluated or dropped.
    /// </summary>
    internal static void Guard(BufferHandle<T> source, LazyBuffer<T> reader)
    {
        var lazy = Volatile.Read(ref source.Lazy);
        if (lazy is null)
        {
            var array = Volatile.Read(ref source.Array) ?? CpuStorage<T>.ThrowDisposed();
            var fresh = new LazyBuffer<T>(source, array, 0, 0, null);
            lazy = Interlocked.CompareExchange(ref source.Lazy, fresh, null) ?? fresh;
        }
        lock (lazy)
        {
            if (lazy.Backing is null) CpuStorage<T>.ThrowDisposed();
            if (lazy.Pending is not null) throw new InvalidOperationException("internal error: a pending buffer used as a fusion source");
            var readers = lazy._readers ??= new();
            // Results that were never read nor disposed stay listed until collected: drop those now and then, so a
            // long-lived source in a loop without dispose scopes keeps a short list.
            if (readers.Count >= 16 && (readers.Count & (readers.Count - 1)) == 0)
                readers.RemoveAll(static w => !w.TryGetTarget(out var r) || r.Pending is null);
            readers.Add(new WeakReference<LazyBuffer<T>>(reader));
            Volatile.Write(ref source.Array, null);
            source.AddRef();
        }
    }

    /// <summary>The last tensor over this buffer was disposed: drop the expression, return the array to the pool.</summary>
    internal void OnLastRelease(BufferHandle<T> h)
    {
        T[]? array;
        lock (this)
        {
            var expr = Pending;
            Pending = null;
            array = Backing;
            Backing = null;
            Volatile.Write(ref h.Array, null);
            if (expr is not null) ReleaseSources(expr);
        }
        if (array is not null && h.Pooled) MemoryPool.Return(array);
    }

    /// <summary>Takes the (evaluated, unread) array away from this handle (Storage.Rehome).</summary>
    internal T[]? Detach(BufferHandle<T> h)
    {
        lock (this)
        {
            if (Pending is not null || NextReaderLocked() is not null)
                throw new InvalidOperationException("internal error: rehoming a buffer with pending lazy work");
            var array = Backing;
            Backing = null;
            Volatile.Write(ref h.Array, null);
            return array;
        }
    }
}
