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
