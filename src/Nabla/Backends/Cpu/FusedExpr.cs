using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Nabla.Kernels.Cpu;

namespace Nabla.Backends.Cpu;

// The expression IR of lazy fusion and its CPU evaluator (Note [Lazy fusion] in LazyFusion.cs).

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
