using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Nabla.Kernels.Cpu;

namespace Nabla.Backends.Cpu;

// Note [Lazy fusion]
// Large elementwise ops that autograd does not record (add/sub/mul/div/maximum/minimum with a tensor of the same
// shape or a scalar, neg/abs/relu; float32/float64, contiguous, at least LazyFusion.MinElements elements) return a
// tensor whose buffer is rented but not written: its BufferHandle carries a LazyBuffer with the pending expression,
// and the handle's published Array stays null. An op on such a tensor extends the expression (up to MaxNodes nodes;
// beyond that the operand is computed and read as a source) instead of reading it, and a full float32 sum/mean of
// it evaluates the expression leaf by leaf (1024 elements, L1-resident) and sums the leaves, never writing the
// result buffer: (x*2+1).relu().sum() reads x once. Expressions that are chains (every op takes the previous op's
// result plus a scalar or a source) run four vectors at a time through all ops in registers; other shapes run op
// by op over per-thread scratch blocks; a single op, when materialized, is the eager kernel itself.
//
// Everything else that touches the buffer goes through CpuStorage<T>.Array, whose fast path is `_handle.Array ?? slow`:
// the slow path evaluates the expression once (under the LazyBuffer's lock, blocks in parallel) and publishes the
// array. There is no other way to the elements, so materialization cannot be missed: views, printing, ToArray, to(),
// in-place writes, autograd, other threads all go through it.
//
// Safety of the sources (the buffers an expression reads later):
// (1) Lifetime: the deferred result takes a reference on each source's handle (Note [Storage reference count]), so
//     disposing the source tensor, or the end of its dispose scope, does not send the buffer back to MemoryPool;
//     the reference is released once the expression was evaluated or dropped (its tensors disposed).
// (2) Writes: a source is "guarded" while any deferred result reads it: its handle's published Array is null too,
//     so every access (read or write, through any path: in-place ops, copy_, fill_, indexing setters, random fills,
//     optimizers, AccumulateGrad, spans) takes the slow path, which first evaluates every deferred result still
//     reading the buffer and only then publishes the array. A write can therefore never precede the evaluation of a
//     pending reader. (Reads are treated like writes: they force the readers too, which costs time, never results.)
//     Only the fused kernels here read a guarded source without the slow path, from LazyBuffer.Backing.
//     Caller-owned arrays (not rented from the pool) are never used as sources: their owner can write them directly.
//
// Readers are held weakly: a deferred result nobody can reach any more is never evaluated; its references on its
// sources are then never released, so those buffers go back to the GC instead of the pool (correct, only slower).
// Lock order: a pending buffer's lock, then its sources' locks; a source never takes another lock while holding its
// own, and a buffer that is a source is never pending (pending operands are inlined or computed first), so there is
// no cycle. Results are bit-identical to the eager ops (same operators, same rounding per element), and the fused
// float32 sum uses Reduction.PairwiseSum's exact block grouping, so it equals the eager sum of the materialized tensor.

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

/// <summary>One fused operator.</summary>
internal enum FusedOp : byte { Source, Add, Sub, Mul, Div, Max, Min, Neg, Abs, Relu }

/// <summary>A node of a fused expression: a source read, or an operator on earlier nodes (or a scalar).</summary>
internal struct FusedNode<T> where T : unmanaged
{
    public FusedOp Op;
    /// <summary>Operand node indices; -1 is <see cref="Scalar"/>.</summary>
    public int A, B;
    /// <summary>For a source: index into the expression's sources, and the element offset in its array.</summary>
    public int Source, Offset;
    public T Scalar;
}

/// <summary>An elementwise expression over source buffers, evaluated in cache-sized blocks (Note [Lazy fusion]).</summary>
internal sealed class FusedExpr<T> : PendingExpr<T> where T : unmanaged, INumber<T>
{
    /// <summary>Elements per evaluation block: every intermediate node has one block of scratch (L1/L2 resident).</summary>
    internal const int BlockSize = Reduction.Block;

    internal readonly FusedNode<T>[] Nodes;
    readonly BufferHandle<T>[] _sources;

    /// <summary>Number of elements.</summary>
    internal readonly int Length;

    internal FusedExpr(FusedNode<T>[] nodes, BufferHandle<T>[] sources, int length)
    {
        Nodes = nodes;
        Length = length;
        _sources = sources;
        _chain = BuildChain(nodes);
    }

    internal override BufferHandle<T>[] Sources => _sources;

    /// <summary>The source arrays (held alive and unwritten by the references the pending buffer holds).</summary>
    internal T[][] SourceArrays()
    {
        var arrays = new T[_sources.Length][];
        for (int i = 0; i < arrays.Length; i++) arrays[i] = _sources[i].Lazy!.Backing!;
        // The kernels below index without bounds checks: every source read must lie inside its array.
        foreach (var n in Nodes)
            if (n.Op == FusedOp.Source && (n.Offset < 0 || (long)n.Offset + Length > arrays[n.Source].Length))
                throw new InvalidOperationException("internal error: fused source range out of bounds");
        return arrays;
    }

    // ---- chains: every op applies to the previous op's result (and a scalar or a source), as (x*2+1).relu() ----

    /// <summary>How a chain step takes its other operand.</summary>
    enum Other : byte { None, ScalarRight, ScalarLeft, SourceRight, SourceLeft }

    struct Step
    {
        public FusedOp Op;
        public Other Kind;
        public int Source, Offset;
        public T Scalar;
    }

    /// <summary>The start source node and the steps, when the expression is a chain; null otherwise.</summary>
    readonly (int Source, int Offset, Step[] Steps)? _chain;

    static (int, int, Step[])? BuildChain(FusedNode<T>[] nodes)
    {
        var steps = new List<Step>();
        int prev = -1, startSource = 0, startOffset = 0;
        for (int i = 0; i < nodes.Length; i++)
        {
            var n = nodes[i];
            if (n.Op == FusedOp.Source) continue;
            bool unary = n.Op is FusedOp.Neg or FusedOp.Abs or FusedOp.Relu;
            int chainOperand, other;
            bool left;
            if (prev < 0)
            {
                // The first op starts from a source operand.
                if (n.A >= 0 && nodes[n.A].Op == FusedOp.Source) { chainOperand = n.A; other = n.B; left = false; }
                else if (!unary && n.A < 0 && n.B >= 0 && nodes[n.B].Op == FusedOp.Source) { chainOperand = n.B; other = -1; left = true; }
                else return null;
                startSource = nodes[chainOperand].Source;
                startOffset = nodes[chainOperand].Offset;
            }
            else if (n.A == prev) { other = n.B; left = false; }
            else if (!unary && n.B == prev) { other = n.A; left = true; }
            else return null;
            var step = new Step { Op = n.Op, Scalar = n.Scalar };
            if (unary) step.Kind = Other.None;
            else if (other < 0) step.Kind = left ? Other.ScalarLeft : Other.ScalarRight;
            else if (nodes[other].Op == FusedOp.Source)
            {
                step.Kind = left ? Other.SourceLeft : Other.SourceRight;
                step.Source = nodes[other].Source;
                step.Offset = nodes[other].Offset;
            }
            else return null;
            steps.Add(step);
            prev = i;
        }
        return prev == nodes.Length - 1 ? (startSource, startOffset, steps.ToArray()) : null;
    }

    /// <summary>A chain evaluated one vector at a time through all steps (the value never leaves registers).</summary>
    void EvalChain(T[][] sources, int begin, Span<T> output)
    {
        var (startSource, startOffset, steps) = _chain!.Value;
        int len = output.Length;
        ref T start = ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(sources[startSource]);
        ref T dst = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(output);
        int first = startOffset + begin;
        int i = 0, w = Vector512<T>.Count;
        // Four vectors at a time: each step's dispatch is paid once per four independent vectors held in registers.
        for (; i <= len - 4 * w; i += 4 * w)
        {
            var v0 = Vector512.LoadUnsafe(ref start, (nuint)(first + i));
            var v1 = Vector512.LoadUnsafe(ref start, (nuint)(first + i + w));
            var v2 = Vector512.LoadUnsafe(ref start, (nuint)(first + i + 2 * w));
            var v3 = Vector512.LoadUnsafe(ref start, (nuint)(first + i + 3 * w));
            for (int k = 0; k < steps.Length; k++)
            {
                ref readonly var st = ref steps[k];
                switch (st.Kind)
                {
                    case Other.None:
                        switch (st.Op)
                        {
                            case FusedOp.Neg: v0 = NegOp<T>.Invoke(v0); v1 = NegOp<T>.Invoke(v1); v2 = NegOp<T>.Invoke(v2); v3 = NegOp<T>.Invoke(v3); break;
                            case FusedOp.Abs: v0 = AbsOp<T>.Invoke(v0); v1 = AbsOp<T>.Invoke(v1); v2 = AbsOp<T>.Invoke(v2); v3 = AbsOp<T>.Invoke(v3); break;
                            default: v0 = ReluOp<T>.Invoke(v0); v1 = ReluOp<T>.Invoke(v1); v2 = ReluOp<T>.Invoke(v2); v3 = ReluOp<T>.Invoke(v3); break;
                        }
                        break;
                    case Other.ScalarRight:
                    {
                        var c = Vector512.Create(st.Scalar);
                        switch (st.Op)
                        {
                            case FusedOp.Add: v0 += c; v1 += c; v2 += c; v3 += c; break;
                            case FusedOp.Sub: v0 -= c; v1 -= c; v2 -= c; v3 -= c; break;
                            case FusedOp.Mul: v0 *= c; v1 *= c; v2 *= c; v3 *= c; break;
                            default: v0 = Binary(st.Op, v0, c); v1 = Binary(st.Op, v1, c); v2 = Binary(st.Op, v2, c); v3 = Binary(st.Op, v3, c); break;
                        }
                        break;
                    }
                    case Other.ScalarLeft:
                    {
                        var c = Vector512.Create(st.Scalar);
                        v0 = Binary(st.Op, c, v0); v1 = Binary(st.Op, c, v1); v2 = Binary(st.Op, c, v2); v3 = Binary(st.Op, c, v3);
                        break;
                    }
                    default:
                    {
                        ref T o = ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(sources[st.Source]);
                        nuint at = (nuint)(st.Offset + begin + i);
                        var o0 = Vector512.LoadUnsafe(ref o, at);
                        var o1 = Vector512.LoadUnsafe(ref o, at + (nuint)w);
                        var o2 = Vector512.LoadUnsafe(ref o, at + (nuint)(2 * w));
                        var o3 = Vector512.LoadUnsafe(ref o, at + (nuint)(3 * w));
                        if (st.Kind == Other.SourceRight) { v0 = Binary(st.Op, v0, o0); v1 = Binary(st.Op, v1, o1); v2 = Binary(st.Op, v2, o2); v3 = Binary(st.Op, v3, o3); }
                        else { v0 = Binary(st.Op, o0, v0); v1 = Binary(st.Op, o1, v1); v2 = Binary(st.Op, o2, v2); v3 = Binary(st.Op, o3, v3); }
                        break;
                    }
                }
            }
            v0.StoreUnsafe(ref dst, (nuint)i);
            v1.StoreUnsafe(ref dst, (nuint)(i + w));
            v2.StoreUnsafe(ref dst, (nuint)(i + 2 * w));
            v3.StoreUnsafe(ref dst, (nuint)(i + 3 * w));
        }
        for (; i <= len - w; i += w)
        {
            var v = Vector512.LoadUnsafe(ref start, (nuint)(first + i));
            for (int k = 0; k < steps.Length; k++) v = Apply(in steps[k], v, sources, begin + i);
            v.StoreUnsafe(ref dst, (nuint)i);
        }
        for (; i < len; i++)
        {
            T v = Unsafe.Add(ref start, first + i);
            for (int k = 0; k < steps.Length; k++) v = Apply(in steps[k], v, sources, begin + i);
            Unsafe.Add(ref dst, i) = v;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<T> Apply(in Step s, Vector512<T> v, T[][] sources, int index)
    {
        switch (s.Kind)
        {
            case Other.None:
                return s.Op switch { FusedOp.Neg => NegOp<T>.Invoke(v), FusedOp.Abs => AbsOp<T>.Invoke(v), _ => ReluOp<T>.Invoke(v) };
            case Other.ScalarRight: return Binary(s.Op, v, Vector512.Create(s.Scalar));
            case Other.ScalarLeft: return Binary(s.Op, Vector512.Create(s.Scalar), v);
            default:
                var o = Vector512.LoadUnsafe(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(sources[s.Source]), (nuint)(s.Offset + index));
                return s.Kind == Other.SourceRight ? Binary(s.Op, v, o) : Binary(s.Op, o, v);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<T> Binary(FusedOp op, Vector512<T> x, Vector512<T> y) => op switch
    {
        FusedOp.Add => AddOp<T>.Invoke(x, y),
        FusedOp.Sub => SubOp<T>.Invoke(x, y),
        FusedOp.Mul => MulOp<T>.Invoke(x, y),
        FusedOp.Div => DivOp<T>.Invoke(x, y),
        FusedOp.Max => MaxOp<T>.Invoke(x, y),
        _ => MinOp<T>.Invoke(x, y),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static T Apply(in Step s, T v, T[][] sources, int index)
    {
        switch (s.Kind)
        {
            case Other.None:
                return s.Op switch { FusedOp.Neg => NegOp<T>.Invoke(v), FusedOp.Abs => AbsOp<T>.Invoke(v), _ => ReluOp<T>.Invoke(v) };
            case Other.ScalarRight: return Binary(s.Op, v, s.Scalar);
            case Other.ScalarLeft: return Binary(s.Op, s.Scalar, v);
            default:
                var o = sources[s.Source][s.Offset + index];
                return s.Kind == Other.SourceRight ? Binary(s.Op, v, o) : Binary(s.Op, o, v);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static T Binary(FusedOp op, T x, T y) => op switch
    {
        FusedOp.Add => AddOp<T>.Invoke(x, y),
        FusedOp.Sub => SubOp<T>.Invoke(x, y),
        FusedOp.Mul => MulOp<T>.Invoke(x, y),
        FusedOp.Div => DivOp<T>.Invoke(x, y),
        FusedOp.Max => MaxOp<T>.Invoke(x, y),
        _ => MinOp<T>.Invoke(x, y),
    };

    [ThreadStatic] static T[]? t_scratch;

    internal static T[] Scratch(int nodes)
    {
        int need = nodes * BlockSize;
        var s = t_scratch;
        if (s is null || s.Length < need) t_scratch = s = new T[Math.Max(need, 16 * BlockSize)];
        return s;
    }

    internal override void Evaluate(T[] dst, int start, int length)
    {
        var arrays = SourceArrays();
        if (_chain is { Steps.Length: 1 } one && TrySingleOp(one.Steps[0], arrays[one.Source], one.Offset, arrays, dst, start, length)) return;
        int blocks = (length + BlockSize - 1) / BlockSize;
        ParallelFor.For(blocks, Math.Max(1, Elementwise.Grain / BlockSize), new EvalBody { Expr = this, Sources = arrays, Dst = dst, Start = start, Length = length });
    }

    /// <summary>A single deferred op computed by the eager kernel itself (the same kernel, the same bits).</summary>
    static bool TrySingleOp(in Step st, T[] x, int xOff, T[][] sources, T[] dst, int start, int n)
    {
        switch (st.Kind)
        {
            case Other.None:
                switch (st.Op)
                {
                    case FusedOp.Neg: Elementwise.UnaryParallel<T, NegOp<T>>(x, xOff, dst, start, n); return true;
                    case FusedOp.Abs: Elementwise.UnaryParallel<T, AbsOp<T>>(x, xOff, dst, start, n); return true;
                    default: Elementwise.UnaryParallel<T, ReluOp<T>>(x, xOff, dst, start, n); return true;
                }
            case Other.ScalarRight:
                switch (st.Op)
                {
                    case FusedOp.Add: Elementwise.BinaryScalarRightParallel<T, AddOp<T>>(x, xOff, st.Scalar, dst, start, n); return true;
                    case FusedOp.Sub: Elementwise.BinaryScalarRightParallel<T, SubOp<T>>(x, xOff, st.Scalar, dst, start, n); return true;
                    case FusedOp.Mul: Elementwise.BinaryScalarRightParallel<T, MulOp<T>>(x, xOff, st.Scalar, dst, start, n); return true;
                    case FusedOp.Div: Elementwise.BinaryScalarRightParallel<T, DivOp<T>>(x, xOff, st.Scalar, dst, start, n); return true;
                    default: return false;
                }
            case Other.SourceRight:
                var y = sources[st.Source];
                switch (st.Op)
                {
                    case FusedOp.Add: Elementwise.BinaryParallel<T, AddOp<T>>(x, xOff, y, st.Offset, dst, start, n); return true;
                    case FusedOp.Sub: Elementwise.BinaryParallel<T, SubOp<T>>(x, xOff, y, st.Offset, dst, start, n); return true;
                    case FusedOp.Mul: Elementwise.BinaryParallel<T, MulOp<T>>(x, xOff, y, st.Offset, dst, start, n); return true;
                    case FusedOp.Div: Elementwise.BinaryParallel<T, DivOp<T>>(x, xOff, y, st.Offset, dst, start, n); return true;
                    default: return false;
                }
            default:
                return false;
        }
    }

    struct EvalBody : IRangeBody
    {
        public FusedExpr<T> Expr;
        public T[][] Sources;
        public T[] Dst;
        public int Start, Length;

        public void Invoke(int begin, int end)
        {
            int from = begin * BlockSize, to = Math.Min(Length, end * BlockSize);
            Expr.EvalRange(Sources, from, Dst.AsSpan(Start + from, to - from));
        }
    }

    /// <summary>Writes elements [begin, begin + output.Length) of the expression into <paramref name="output"/>.</summary>
    internal void EvalRange(T[][] sources, int begin, Span<T> output)
    {
        if (_chain is not null && Vector512.IsHardwareAccelerated)
        {
            EvalChain(sources, begin, output); // no scratch: one streaming loop over the whole range
            return;
        }
        var scratch = Scratch(Nodes.Length);
        for (int done = 0; done < output.Length; done += BlockSize)
        {
            int len = Math.Min(BlockSize, output.Length - done);
            EvalBlock(sources, begin + done, output.Slice(done, len), scratch);
        }
    }

    /// <summary>Writes elements [begin, begin + output.Length) (at most <see cref="BlockSize"/>) into <paramref name="output"/>.</summary>
    internal void EvalBlock(T[][] sources, int begin, Span<T> output) => EvalBlock(sources, begin, output, Scratch(Nodes.Length));

    void EvalBlock(T[][] sources, int begin, Span<T> output, T[] scratch)
    {
        if (_chain is not null && Vector512.IsHardwareAccelerated)
        {
            EvalChain(sources, begin, output);
            return;
        }
        int len = output.Length, last = Nodes.Length - 1;
        for (int i = 0; i <= last; i++)
        {
            ref readonly var n = ref Nodes[i];
            if (n.Op == FusedOp.Source) continue;
            Span<T> dst = i == last ? output : scratch.AsSpan(i * BlockSize, len);
            if (n.Op is FusedOp.Neg or FusedOp.Abs or FusedOp.Relu)
            {
                var x = Operand(sources, n.A, begin, len, scratch);
                switch (n.Op)
                {
                    case FusedOp.Neg: Elementwise.Unary<T, NegOp<T>>(x, dst); break;
                    case FusedOp.Abs: Elementwise.Unary<T, AbsOp<T>>(x, dst); break;
                    default: Elementwise.Unary<T, ReluOp<T>>(x, dst); break;
                }
                continue;
            }
            switch (n.Op)
            {
                case FusedOp.Add: Binary<AddOp<T>>(sources, n, begin, dst, scratch); break;
                case FusedOp.Sub: Binary<SubOp<T>>(sources, n, begin, dst, scratch); break;
                case FusedOp.Mul: Binary<MulOp<T>>(sources, n, begin, dst, scratch); break;
                case FusedOp.Div: Binary<DivOp<T>>(sources, n, begin, dst, scratch); break;
                case FusedOp.Max: Binary<MaxOp<T>>(sources, n, begin, dst, scratch); break;
                case FusedOp.Min: Binary<MinOp<T>>(sources, n, begin, dst, scratch); break;
                default: throw new InvalidOperationException($"internal error: fused op {n.Op}");
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Binary<TOp>(T[][] sources, in FusedNode<T> n, int begin, Span<T> dst, T[] scratch) where TOp : IBinaryOp<T>
    {
        int len = dst.Length;
        if (n.A < 0) Elementwise.BinaryScalarLeft<T, TOp>(n.Scalar, Operand(sources, n.B, begin, len, scratch), dst);
        else if (n.B < 0) Elementwise.BinaryScalarRight<T, TOp>(Operand(sources, n.A, begin, len, scratch), n.Scalar, dst);
        else Elementwise.Binary<T, TOp>(Operand(sources, n.A, begin, len, scratch), Operand(sources, n.B, begin, len, scratch), dst);
    }

    ReadOnlySpan<T> Operand(T[][] sources, int node, int begin, int len, T[] scratch)
    {
        ref readonly var n = ref Nodes[node];
        return n.Op == FusedOp.Source
            ? new ReadOnlySpan<T>(sources[n.Source], n.Offset + begin, len)
            : new ReadOnlySpan<T>(scratch, node * BlockSize, len);
    }
}

/// <summary>Where ops decide to defer, and the fused reductions (Note [Lazy fusion]).</summary>
internal static class LazyFusion
{
    /// <summary>
    /// Whether large elementwise ops are deferred and fused (on by default). A Nabla extension with no PyTorch
    /// counterpart, internal so tests and benchmarks can compare both paths; results are the same either way.
    /// </summary>
    internal static volatile bool Enabled = true;

    /// <summary>Ops on fewer elements run eagerly: deferral pays only when a pass over memory is worth saving.</summary>
    internal const int MinElements = 1 << 20;

    /// <summary>Nodes (sources included) one expression may hold; a longer chain computes its operand first.</summary>
    internal const int MaxNodes = 12;

    /// <summary>True while <paramref name="storage"/> holds an unevaluated expression (tests).</summary>
    internal static bool IsPending(Storage storage) => storage switch
    {
        CpuStorage<float> s => s.Handle.Lazy?.Pending is not null,
        CpuStorage<double> s => s.Handle.Lazy?.Pending is not null,
        _ => false,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static bool Eligible(in Operand full, ScalarType dtype) =>
        full.Numel >= MinElements && Enabled && (dtype == ScalarType.Float32 || dtype == ScalarType.Float64)
        && full.DType == dtype;

    static FusedOp Op(BinaryOp kind) => kind switch
    {
        BinaryOp.Add => FusedOp.Add,
        BinaryOp.Sub => FusedOp.Sub,
        BinaryOp.Mul => FusedOp.Mul,
        BinaryOp.Div => FusedOp.Div,
        BinaryOp.Max => FusedOp.Max,
        _ => FusedOp.Min,
    };

    /// <summary>a (op) b deferred, or null when the eager path must run.</summary>
    public static Storage? TryBinary(BinaryOp kind, in Operand a, in Operand b, ScalarType dtype)
    {
        bool fullIsA = a.Numel >= b.Numel;
        var full = fullIsA ? a : b;
        if (!Eligible(full, dtype) || a.DType != dtype || b.DType != dtype) return null;
        bool same = Operand.ShapesEqual(a, b);
        if (!same)
        {
            var other = fullIsA ? b : a;
            if (other.Numel != 1 || !ShapeUtil.SameShape(ShapeUtil.Broadcast(a.Shape, b.Shape), full.Shape)) return null;
        }
        return dtype == ScalarType.Float32 ? BinaryT<float>(kind, a, b, fullIsA, same) : BinaryT<double>(kind, a, b, fullIsA, same);
    }

    static Storage? BinaryT<T>(BinaryOp kind, in Operand a, in Operand b, bool fullIsA, bool same) where T : unmanaged, INumber<T>
    {
        var builder = new Builder<T>();
        var node = new FusedNode<T> { Op = Op(kind) };
        var full = fullIsA ? a : b;
        if (same)
        {
            int ia = builder.Add(a), ib = ia < -1 ? -2 : builder.Add(b);
            if (ia < -1 || ib < -1) return null;
            node.A = ia; node.B = ib;
        }
        else
        {
            var scalarOperand = fullIsA ? b : a;
            var ss = (CpuStorage<T>)scalarOperand.Storage;
            T value = ss.Array[ss.Start + scalarOperand.Offset];
            int i = builder.Add(full);
            if (i < -1) return null;
            node.Scalar = value;
            if (fullIsA) { node.A = i; node.B = -1; }
            else { node.A = -1; node.B = i; }
        }
        return builder.Finish(node, full);
    }

    /// <summary>a (op) s (or s (op) a) deferred, or null when the eager path must run.</summary>
    public static Storage? TryScalar(BinaryOp kind, in Operand a, Scalar s, ScalarType dtype, bool scalarLeft)
    {
        if (!Eligible(a, dtype)) return null;
        return dtype == ScalarType.Float32 ? ScalarT(kind, a, s.As<float>(), scalarLeft) : ScalarT(kind, a, s.As<double>(), scalarLeft);
    }

    static Storage? ScalarT<T>(BinaryOp kind, in Operand a, T value, bool left) where T : unmanaged, INumber<T>
    {
        var builder = new Builder<T>();
        int i = builder.Add(a);
        if (i < -1) return null;
        var node = new FusedNode<T> { Op = Op(kind), Scalar = value, A = left ? -1 : i, B = left ? i : -1 };
        return builder.Finish(node, a);
    }

    /// <summary>A unary op deferred, or null when the eager path must run.</summary>
    public static Storage? TryUnary(UnaryOp kind, in Operand a)
    {
        if (kind == UnaryOp.Sign || !Eligible(a, a.DType)) return null;
        var op = kind switch { UnaryOp.Neg => FusedOp.Neg, UnaryOp.Abs => FusedOp.Abs, _ => FusedOp.Relu };
        return a.DType == ScalarType.Float32 ? UnaryT<float>(op, a) : UnaryT<double>(op, a);
    }

    static Storage? UnaryT<T>(FusedOp op, in Operand a) where T : unmanaged, INumber<T>
    {
        var builder = new Builder<T>();
        int i = builder.Add(a);
        if (i < -1) return null;
        return builder.Finish(new FusedNode<T> { Op = op, A = i, B = -1 }, a);
    }

    /// <summary>Collects the nodes and distinct sources of a new expression.</summary>
    struct Builder<T> where T : unmanaged, INumber<T>
    {
        List<FusedNode<T>>? _nodes;
        List<BufferHandle<T>>? _sources;

        /// <summary>Adds an operand (inlining a pending expression); its node index, or -2 when it cannot be fused.</summary>
        public int Add(in Operand t)
        {
            _nodes ??= new();
            _sources ??= new();
            if (!t.IsContiguous) return -2;
            var st = (CpuStorage<T>)t.Storage;
            var h = st.Handle;
            if (Volatile.Read(ref h.Lazy) is { } lazy && h.Array is null)
            {
                // A deferred operand covering its whole buffer: copy its expression (its references keep the
                // sources alive while we hold its lock; ours are taken when the result is created).
                FusedNode<T>[]? inlined = null;
                BufferHandle<T>[]? inlinedSources = null;
                bool pending;
                lock (lazy)
                {
                    pending = lazy.Pending is not null;
                    // (+ 2: the op's own node, and room for a second operand's source node.)
                    if (lazy.Pending is FusedExpr<T> e && t.Offset == 0 && t.Numel == st.Length && _nodes.Count + e.Nodes.Length + 2 <= MaxNodes)
                    {
                        inlined = e.Nodes;
                        inlinedSources = e.Sources;
                    }
                }
                if (inlined is not null)
                {
                    int baseIndex = _nodes.Count;
                    foreach (var n in inlined)
                    {
                        var c = n;
                        if (c.Op == FusedOp.Source) c.Source = SourceIndex(inlinedSources![c.Source]);
                        else
                        {
                            if (c.A >= 0) c.A += baseIndex;
                            if (c.B >= 0) c.B += baseIndex;
                        }
                        _nodes.Add(c);
                    }
                    return _nodes.Count - 1;
                }
                // A pending view, or an expression too long to extend: compute it now and read it as a source. (A
                // buffer that is only guarded, read by other pending results, is used as it is: touching its Array
                // would compute those readers for nothing.)
                if (pending) _ = st.Array;
            }
            if (!h.Pooled || _nodes.Count + 2 > MaxNodes) return -2;
            _nodes.Add(new FusedNode<T> { Op = FusedOp.Source, Source = SourceIndex(h), Offset = st.Start + t.Offset, A = -1, B = -1 });
            return _nodes.Count - 1;
        }

        int SourceIndex(BufferHandle<T> h)
        {
            int i = _sources!.IndexOf(h);
            if (i >= 0) return i;
            _sources.Add(h);
            return _sources.Count - 1;
        }

        /// <summary>The deferred result of <paramref name="op"/> on the collected operands, shaped like <paramref name="like"/>.</summary>
        public Storage Finish(FusedNode<T> op, in Operand like)
        {
            _nodes!.Add(op);
            var sources = _sources!.ToArray();
            var expr = new FusedExpr<T>(_nodes.ToArray(), sources, like.Numel);
            var storage = CpuStorage<T>.Deferred(like.Numel, expr);
            var lazy = storage.Handle.Lazy!;
            int guarded = 0;
            try
            {
                for (; guarded < sources.Length; guarded++) LazyBuffer<T>.Guard(sources[guarded], lazy);
            }
            catch
            {
                // A source was disposed: undo the guards taken so far and give the buffer back.
                var partial = new FusedExpr<T>(System.Array.Empty<FusedNode<T>>(), sources[..guarded], 0);
                lazy.Pending = partial;
                lazy.OnLastRelease(storage.Handle);
                throw;
            }
            return storage;
        }
    }

    /// <summary>
    /// The float32 sum of all elements of a deferred tensor, evaluated block by block without writing its buffer;
    /// false when <paramref name="x"/> is not a whole pending float32 expression.
    /// </summary>
    public static bool TrySum(in Operand x, out float sum)
    {
        sum = 0;
        if (x.DType != ScalarType.Float32 || x.Offset != 0) return false;
        var st = (CpuStorage<float>)x.Storage;
        if (st.Handle.Array is not null || Volatile.Read(ref st.Handle.Lazy) is not { } lazy) return false;
        if (x.Numel != st.Length || !x.IsContiguous) return false;
        lock (lazy)
        {
            if (lazy.Pending is not FusedExpr<float> e || lazy.Backing is null) return false;
            sum = FusedSum(e);
        }
        return true;
    }

    // Mirrors Reduction.PairwiseSum exactly (Note [Float32 summation]): the same groups, the same pairwise trees,
    // the same double accumulation of group sums, only with each group's elements computed into scratch.
    static float FusedSum(FusedExpr<float> e)
    {
        var sources = e.SourceArrays();
        int n = e.Length;
        const int Block = Reduction.Block, Grain = Reduction.ParallelGrainBlocks;
        int blocks = n / Block;
        if (n > Block && blocks >= 2 * Grain && ParallelFor.NumThreads > 1)
        {
            int groups = (blocks + Grain - 1) / Grain;
            var partial = new double[groups];
            ParallelFor.For(groups, 1, new SumBody { Expr = e, Sources = sources, Partial = partial, Blocks = blocks });
            double total = 0;
            foreach (double v in partial) total += v;
            int tail = blocks * Block;
            return (float)(total + SequentialSum(e, sources, tail, n - tail));
        }
        return SequentialSum(e, sources, 0, n);
    }

    [ThreadStatic] static float[]? t_leaf;

    /// <summary>
    /// Reduction.PairwiseSequential over elements [begin, begin+length) of the expression: the same recursion, with
    /// each leaf (at most one 1024-element block, aligned as there) computed into an L1-resident buffer and summed.
    /// </summary>
    static float SequentialSum(FusedExpr<float> e, float[][] sources, int begin, int length)
    {
        const int Block = Reduction.Block;
        if (length <= Block)
        {
            var leaf = (t_leaf ??= new float[Block]).AsSpan(0, length);
            e.EvalBlock(sources, begin, leaf);
            return TensorPrimitives.Sum((ReadOnlySpan<float>)leaf);
        }
        int half = (length / 2 + Block - 1) / Block * Block;
        return SequentialSum(e, sources, begin, half) + SequentialSum(e, sources, begin + half, length - half);
    }

    struct SumBody : IRangeBody
    {
        public FusedExpr<float> Expr;
        public float[][] Sources;
        public double[] Partial;
        public int Blocks;

        public void Invoke(int begin, int end)
        {
            for (int g = begin; g < end; g++)
            {
                int first = g * Reduction.ParallelGrainBlocks;
                int count = Math.Min(Reduction.ParallelGrainBlocks, Blocks - first);
                Partial[g] = SequentialSum(Expr, Sources, first * Reduction.Block, count * Reduction.Block);
            }
        }
    }
}
