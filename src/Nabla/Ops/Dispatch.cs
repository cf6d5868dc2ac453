using Nabla.Kernels.Cpu;

namespace Nabla.Ops;

/// <summary>
/// Dtype dispatch for elementwise kernels (once per op, never per element), type promotion, and the raw
/// (untracked) tensor operations that ops and backward rules build on.
/// </summary>
internal static class Dispatch
{
    /// <summary>PyTorch's result_type for two tensors: dimensioned operands win over 0-d ones of the same category.</summary>
    public static ScalarType ResultType(Tensor a, Tensor b)
    {
        bool a0 = a._shape.Length == 0, b0 = b._shape.Length == 0;
        if (a0 == b0) return ScalarTypeExtensions.Promote(a._dtype, b._dtype);
        var (dimmed, zeroDim) = a0 ? (b, a) : (a, b);
        if (ScalarTypeExtensions.Category(zeroDim._dtype) > ScalarTypeExtensions.Category(dimmed._dtype))
            return ScalarTypeExtensions.Category(zeroDim._dtype) == 2 && ScalarTypeExtensions.Category(dimmed._dtype) < 2
                ? (zeroDim._dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32)
                : zeroDim._dtype;
        return dimmed._dtype;
    }

    /// <summary>Result dtype of tensor (op) scalar: a float scalar lifts an integer/bool tensor to float32.</summary>
    public static ScalarType ResultType(Tensor a, Scalar s)
    {
        int cs = s.Kind == ScalarType.Bool ? 0 : s.IsFloatingPoint ? 2 : 1;
        int ca = ScalarTypeExtensions.Category(a._dtype);
        if (cs <= ca) return a._dtype;
        return cs == 2 ? ScalarType.Float32 : ScalarType.Int64;
    }

    public static Tensor Cast(Tensor t, ScalarType dtype) => t._dtype == dtype ? t : ToDType(t, dtype);

    /// <summary>A contiguous copy converted to <paramref name="dtype"/> (no autograd).</summary>
    public static Tensor ToDType(Tensor t, ScalarType dtype)
    {
        var result = Tensor.Empty(dtype, t._shape);
        CopyInto(result, t);
        return result;
    }

    /// <summary>Copies <paramref name="src"/> (broadcast to dst's shape, any dtype) into <paramref name="dst"/> (any strides).</summary>
    public static void CopyInto(Tensor dst, Tensor src)
    {
        if (src._dtype == dst._dtype && TryTransposedCopy(dst, src)) return;
        if (src._dtype == dst._dtype && dst._numel > 0 && dst.is_contiguous() && src.is_contiguous() && IsTrailingBroadcast(src, dst))
        {
            // A row repeated over the leading dims (addmm's bias): one block copy per row.
            switch (dst._dtype)
            {
                case ScalarType.Float32: RepeatRows<float>(dst, src); return;
                case ScalarType.Float64: RepeatRows<double>(dst, src); return;
            }
        }
        var strides = BroadcastStrides(src, dst._shape);
        if (src._dtype == dst._dtype && dst._numel > 0 && AllZero(strides) && dst.is_contiguous())
        {
            // One element broadcast everywhere (the gradient of a sum, ones_like(...).expand): a fill.
            switch (dst._dtype)
            {
                case ScalarType.Float32: FillWith<float>(dst, src); return;
                case ScalarType.Float64: FillWith<double>(dst, src); return;
                case ScalarType.Int64: FillWith<long>(dst, src); return;
                case ScalarType.Int32: FillWith<int>(dst, src); return;
                case ScalarType.Bool: FillWith<bool>(dst, src); return;
            }
        }
        if (dst._numel > 0 && dst.is_contiguous() && src.is_contiguous() && Tensor.ShapesEqual(dst, src))
        {
            // Dense to dense (to(dtype), clone, contiguous copies): typed, vectorised where it pays, parallel when large.
            switch (src._dtype)
            {
                case ScalarType.Float32: DenseFrom<float>(dst, src); return;
                case ScalarType.Float64: DenseFrom<double>(dst, src); return;
                case ScalarType.Int64: DenseFrom<long>(dst, src); return;
                case ScalarType.Int32: DenseFrom<int>(dst, src); return;
                case ScalarType.Bool: DenseFrom<bool>(dst, src); return;
            }
        }
        switch (src._dtype)
        {
            case ScalarType.Float32: CopyFrom<float>(dst, src, strides); break;
            case ScalarType.Float64: CopyFrom<double>(dst, src, strides); break;
            case ScalarType.Int64: CopyFrom<long>(dst, src, strides); break;
            case ScalarType.Int32: CopyFrom<int>(dst, src, strides); break;
            case ScalarType.Bool: CopyFrom<bool>(dst, src, strides); break;
        }
    }

    /// <summary>True when t has dst's shape and its last two dims are transposed (see <see cref="TryTransposedCopy"/>).</summary>
    static bool IsTransposedLike(Tensor t, Tensor dst)
    {
        int rank = t._shape.Length;
        return rank >= 2 && Tensor.ShapesEqual(t, dst) && t._strides[rank - 2] == 1 && t._shape[rank - 2] >= 8 && t._shape[rank - 1] >= 8
            && t._strides[rank - 1] >= t._shape[rank - 2];
    }

    /// <summary>
    /// dst (contiguous) = src whose last two dims are transposed (stride 1 on the second-to-last dim), batched over
    /// the leading dims: the blocked transpose copy instead of the element-by-element strided walk.
    /// </summary>
    static bool TryTransposedCopy(Tensor dst, Tensor src)
    {
        int rank = src._shape.Length;
        if (rank < 2 || dst._numel < 256 || !dst.is_contiguous() || !Tensor.ShapesEqual(dst, src)) return false;
        long rows = src._shape[rank - 2], cols = src._shape[rank - 1];
        if (rows < 8 || cols < 8 || src._strides[rank - 2] != 1 || src._strides[rank - 1] < rows) return false;
        int batch = (int)(dst._numel / (rows * cols));
        var offsets = new int[batch];
        var idx = new long[Math.Max(0, rank - 2)];
        for (int b = 0; b < batch; b++)
        {
            long off = src._offset;
            for (int k = 0; k < idx.Length; k++) off += idx[k] * src._strides[k];
            offsets[b] = (int)off;
            for (int k = idx.Length - 1; k >= 0; k--)
            {
                if (++idx[k] < src._shape[k]) break;
                idx[k] = 0;
            }
        }
        switch (dst._dtype)
        {
            case ScalarType.Float32: TransposeT<float>(dst, src, offsets, (int)rows, (int)cols); return true;
            case ScalarType.Float64: TransposeT<double>(dst, src, offsets, (int)rows, (int)cols); return true;
            case ScalarType.Int64: TransposeT<long>(dst, src, offsets, (int)rows, (int)cols); return true;
            case ScalarType.Int32: TransposeT<int>(dst, src, offsets, (int)rows, (int)cols); return true;
            default: return false;
        }
    }

    static void TransposeT<T>(Tensor dst, Tensor src, int[] offsets, int rows, int cols) where T : unmanaged
    {
        var (sd, ss) = ((Storage<T>)dst._storage, (Storage<T>)src._storage);
        for (int b = 0; b < offsets.Length; b++) offsets[b] += ss.Start;
        Transpose.Copy(ss.Array, offsets, (int)src._strides[src._shape.Length - 1], sd.Array, sd.Start + dst._offset, rows, cols);
    }

    static bool AllZero(long[] strides)
    {
        foreach (var st in strides)
            if (st != 0) return false;
        return true;
    }

    static void FillWith<T>(Tensor dst, Tensor src) where T : unmanaged
    {
        var (sd, ss) = ((Storage<T>)dst._storage, (Storage<T>)src._storage);
        // Large fills are memory-bound: one contiguous piece per thread (1M floats: 0.3 -> 0.15 ms on 2 threads).
        const int grain = 1 << 18;
        ParallelFor.For((dst._numel + grain - 1) / grain, 1,
            new FillBody<T>(sd.Array, sd.Start + dst._offset, dst._numel, grain, ss.Array[ss.Start + src._offset]));
    }

    readonly struct FillBody<T>(T[] array, int start, int count, int grain, T value) : IRangeBody where T : unmanaged
    {
        public void Invoke(int begin, int end)
        {
            int from = begin * grain, to = (int)Math.Min(count, (long)end * grain);
            array.AsSpan(start + from, to - from).Fill(value);
        }
    }

    static void RepeatRows<T>(Tensor dst, Tensor src) where T : unmanaged
    {
        var (sd, ss) = ((Storage<T>)dst._storage, (Storage<T>)src._storage);
        int inner = src._numel, rows = dst._numel / inner;
        var row = ss.Array.AsSpan(ss.Start + src._offset, inner);
        var d = sd.Array.AsSpan(sd.Start + dst._offset, dst._numel);
        for (int r = 0; r < rows; r++) row.CopyTo(d.Slice(r * inner, inner));
    }

    static void DenseFrom<TFrom>(Tensor dst, Tensor src) where TFrom : unmanaged
    {
        var s = (Storage<TFrom>)src._storage;
        switch (dst._dtype)
        {
            case ScalarType.Float32: DenseTo<TFrom, float>(dst, s, src._offset); break;
            case ScalarType.Float64: DenseTo<TFrom, double>(dst, s, src._offset); break;
            case ScalarType.Int64: DenseTo<TFrom, long>(dst, s, src._offset); break;
            case ScalarType.Int32: DenseTo<TFrom, int>(dst, s, src._offset); break;
            case ScalarType.Bool: DenseTo<TFrom, bool>(dst, s, src._offset); break;
        }
    }

    static void DenseTo<TFrom, TTo>(Tensor dst, Storage<TFrom> src, int srcOffset) where TFrom : unmanaged where TTo : unmanaged
    {
        var d = (Storage<TTo>)dst._storage;
        ConvertKernels.ContiguousParallel(src.Array, src.Start + srcOffset, d.Array, d.Start + dst._offset, dst._numel);
    }

    static void CopyFrom<TFrom>(Tensor dst, Tensor src, long[] srcStrides) where TFrom : unmanaged
    {
        var s = (Storage<TFrom>)src._storage;
        switch (dst._dtype)
        {
            case ScalarType.Float32: CopyTo<TFrom, float>(dst, s, src._offset, srcStrides); break;
            case ScalarType.Float64: CopyTo<TFrom, double>(dst, s, src._offset, srcStrides); break;
            case ScalarType.Int64: CopyTo<TFrom, long>(dst, s, src._offset, srcStrides); break;
            case ScalarType.Int32: CopyTo<TFrom, int>(dst, s, src._offset, srcStrides); break;
            case ScalarType.Bool: CopyTo<TFrom, bool>(dst, s, src._offset, srcStrides); break;
        }
    }

    static void CopyTo<TFrom, TTo>(Tensor dst, Storage<TFrom> src, int srcOffset, long[] srcStrides)
        where TFrom : unmanaged where TTo : unmanaged
    {
        var d = (Storage<TTo>)dst._storage;
        if (dst._numel == 0) return;
        Elementwise.CopyStrided<TFrom, TTo>(dst._shape, d.Array, d.Start + dst._offset, dst._strides,
            src.Array, src.Start + srcOffset, srcStrides);
    }

    /// <summary>Strides that read <paramref name="t"/> broadcast to <paramref name="shape"/> (0 on broadcast dims).</summary>
    public static long[] BroadcastStrides(Tensor t, ReadOnlySpan<long> shape)
    {
        var strides = new long[shape.Length];
        int lead = shape.Length - t._shape.Length;
        if (lead < 0) throw new ArgumentException($"cannot broadcast {ShapeUtil.Format(t._shape)} to {ShapeUtil.Format(shape)}");
        for (int i = 0; i < t._shape.Length; i++)
        {
            long size = t._shape[i];
            if (size == shape[lead + i]) strides[lead + i] = t._strides[i];
            else if (size == 1) strides[lead + i] = 0;
            else
                throw new ArgumentException(
                    $"The expanded size of the tensor ({shape[lead + i]}) must match the existing size ({size}) at non-singleton dimension {lead + i}.  Target sizes: {ShapeUtil.Format(shape)}.  Tensor sizes: {ShapeUtil.Format(t._shape)}");
        }
        return strides;
    }

    // ---- binary ----------------------------------------------------------------------------------------------

    /// <summary>Which binary arithmetic op to run.</summary>
    public enum BinaryKind { Add, Sub, Mul, Div, Max, Min }

    /// <summary>out = a (op) b with broadcasting; both inputs are cast to <paramref name="dtype"/> first.</summary>
    public static Tensor Binary(BinaryKind kind, Tensor a, Tensor b, ScalarType dtype)
    {
        if ((a._numel >= LazyFusion.MinElements || b._numel >= LazyFusion.MinElements) && LazyFusion.TryBinary(kind, a, b, dtype) is { } deferred)
            return deferred;
        a = Cast(a, dtype);
        b = Cast(b, dtype);
        var shape = ShapesEqualOrBroadcast(a, b);
        var result = Tensor.Empty(dtype, shape);
        BinaryInto(kind, result, a, b);
        return result;
    }

    static long[] ShapesEqualOrBroadcast(Tensor a, Tensor b) =>
        Tensor.ShapesEqual(a, b) ? a._shape : ShapeUtil.Broadcast(a._shape, b._shape);

    /// <summary>Writes a (op) b into <paramref name="dst"/> (any strides; a and b broadcast to it, same dtype as dst).</summary>
    public static void BinaryInto(BinaryKind kind, Tensor dst, Tensor a, Tensor b)
    {
        switch (dst._dtype)
        {
            case ScalarType.Float32: BinaryT<float>(kind, dst, a, b); break;
            case ScalarType.Float64: BinaryT<double>(kind, dst, a, b); break;
            case ScalarType.Int64: BinaryT<long>(kind, dst, a, b); break;
            case ScalarType.Int32: BinaryT<int>(kind, dst, a, b); break;
            default: throw new NotSupportedException($"\"{kind}\" not implemented for '{dst._dtype.CppScalarName()}'");
        }
    }

    static void BinaryT<T>(BinaryKind kind, Tensor dst, Tensor a, Tensor b) where T : unmanaged, System.Numerics.INumber<T>
    {
        switch (kind)
        {
            case BinaryKind.Add: Run<T, AddOp<T>>(dst, a, b); break;
            case BinaryKind.Sub: Run<T, SubOp<T>>(dst, a, b); break;
            case BinaryKind.Mul: Run<T, MulOp<T>>(dst, a, b); break;
            case BinaryKind.Div: Run<T, DivOp<T>>(dst, a, b); break;
            case BinaryKind.Max: Run<T, MaxOp<T>>(dst, a, b); break;
            case BinaryKind.Min: Run<T, MinOp<T>>(dst, a, b); break;
        }
    }

    static void Run<T, TOp>(Tensor dst, Tensor a, Tensor b) where T : unmanaged where TOp : IBinaryOp<T>
    {
        if (dst._numel == 0) return;
        var sd = (Storage<T>)dst._storage;
        var sa = (Storage<T>)a._storage;
        var sb = (Storage<T>)b._storage;
        bool dContig = dst.is_contiguous();
        if (dContig && Tensor.ShapesEqual(a, dst) && a.is_contiguous())
        {
            if (Tensor.ShapesEqual(b, dst) && b.is_contiguous())
            {
                Elementwise.BinaryParallel<T, TOp>(sa.Array, sa.Start + a._offset, sb.Array, sb.Start + b._offset, sd.Array, sd.Start + dst._offset, dst._numel);
                return;
            }
            if (b._numel == 1)
            {
                Elementwise.BinaryScalarRightParallel<T, TOp>(sa.Array, sa.Start + a._offset, sb.Array[sb.Start + b._offset], sd.Array, sd.Start + dst._offset, dst._numel);
                return;
            }
        }
        // A transposed operand (x + y.t()): one blocked transpose copy, then the contiguous kernels, instead of a strided
        // walk that touches a new cache line per element.
        if (dContig && dst._numel >= 4096 && (IsTransposedLike(a, dst) || IsTransposedLike(b, dst)))
        {
            Run<T, TOp>(dst, IsTransposedLike(a, dst) ? a.ContiguousRaw() : a, IsTransposedLike(b, dst) ? b.ContiguousRaw() : b);
            return;
        }
        // A contiguous operand broadcast over leading dims (a bias row): one contiguous op per row.
        if (dContig && a.is_contiguous() && b.is_contiguous())
        {
            bool aFull = Tensor.ShapesEqual(a, dst), bFull = Tensor.ShapesEqual(b, dst);
            if ((aFull && IsTrailingBroadcast(b, dst)) || (bFull && IsTrailingBroadcast(a, dst)))
            {
                int inner = aFull ? b._numel : a._numel;
                int rows = dst._numel / inner;
                T[] xa = sa.Array, xb = sb.Array, xd = sd.Array;
                int oa = sa.Start + a._offset, ob = sb.Start + b._offset, od = sd.Start + dst._offset;
                for (int r = 0; r < rows; r++)
                {
                    int row = r * inner;
                    Elementwise.Binary<T, TOp>(xa.AsSpan(aFull ? oa + row : oa, inner), xb.AsSpan(bFull ? ob + row : ob, inner), xd.AsSpan(od + row, inner));
                }
                return;
            }
        }
        Elementwise.BinaryStrided<T, TOp>(dst._shape,
            sd.Array, sd.Start + dst._offset, dst._strides,
            sa.Array, sa.Start + a._offset, BroadcastStrides(a, dst._shape),
            sb.Array, sb.Start + b._offset, BroadcastStrides(b, dst._shape));
    }

    /// <summary>
    /// True when <paramref name="b"/> (more than one element) equals <paramref name="dst"/>'s trailing dims and is 1
    /// (or absent) in the leading ones, so it repeats contiguously for every row of dst.
    /// </summary>
    internal static bool IsTrailingBroadcast(Tensor b, Tensor dst)
    {
        if (b._numel < 2 || b._numel == dst._numel) return false;
        int bi = b._shape.Length - 1, di = dst._shape.Length - 1;
        long prod = 1;
        while (prod < b._numel)
        {
            if (bi < 0 || di < 0 || b._shape[bi] != dst._shape[di]) return false;
            prod *= b._shape[bi];
            bi--;
            di--;
        }
        for (; bi >= 0; bi--)
            if (b._shape[bi] != 1) return false;
        return prod == b._numel;
    }

    /// <summary>out = a (op) scalar, computed in <paramref name="dtype"/>.</summary>
    public static Tensor BinaryScalar(BinaryKind kind, Tensor a, Scalar s, ScalarType dtype, bool scalarLeft = false)
    {
        if (a._numel >= LazyFusion.MinElements && LazyFusion.TryScalar(kind, a, s, dtype, scalarLeft) is { } deferred) return deferred;
        a = Cast(a, dtype);
        var result = Tensor.Empty(dtype, a._shape);
        switch (dtype)
        {
            case ScalarType.Float32: ScalarT(kind, result, a, s.As<float>(), scalarLeft); break;
            case ScalarType.Float64: ScalarT(kind, result, a, s.As<double>(), scalarLeft); break;
            case ScalarType.Int64: ScalarT(kind, result, a, s.As<long>(), scalarLeft); break;
            case ScalarType.Int32: ScalarT(kind, result, a, s.As<int>(), scalarLeft); break;
            default: throw new NotSupportedException($"\"{kind}\" not implemented for '{dtype.CppScalarName()}'");
        }
        return result;
    }

    static void ScalarT<T>(BinaryKind kind, Tensor dst, Tensor a, T s, bool left) where T : unmanaged, System.Numerics.INumber<T>
    {
        switch (kind)
        {
            case BinaryKind.Add: RunScalar<T, AddOp<T>>(dst, a, s, left); break;
            case BinaryKind.Sub: RunScalar<T, SubOp<T>>(dst, a, s, left); break;
            case BinaryKind.Mul: RunScalar<T, MulOp<T>>(dst, a, s, left); break;
            case BinaryKind.Div: RunScalar<T, DivOp<T>>(dst, a, s, left); break;
            case BinaryKind.Max: RunScalar<T, MaxOp<T>>(dst, a, s, left); break;
            case BinaryKind.Min: RunScalar<T, MinOp<T>>(dst, a, s, left); break;
        }
    }

    static void RunScalar<T, TOp>(Tensor dst, Tensor a, T s, bool left) where T : unmanaged where TOp : IBinaryOp<T>
    {
        if (dst._numel == 0) return;
        var sd = (Storage<T>)dst._storage;
        var sa = (Storage<T>)a._storage;
        if (!left && a.is_contiguous() && dst.is_contiguous())
        {
            Elementwise.BinaryScalarRightParallel<T, TOp>(sa.Array, sa.Start + a._offset, s, sd.Array, sd.Start + dst._offset, dst._numel);
            return;
        }
        var one = new[] { s };
        var zeros = new long[dst._shape.Length];
        if (left)
            Elementwise.BinaryStrided<T, TOp>(dst._shape, sd.Array, sd.Start + dst._offset, dst._strides, one, 0, zeros, sa.Array, sa.Start + a._offset, a._strides);
        else
            Elementwise.BinaryStrided<T, TOp>(dst._shape, sd.Array, sd.Start + dst._offset, dst._strides, sa.Array, sa.Start + a._offset, a._strides, one, 0, zeros);
    }

    // ---- unary (generic struct ops) ------------------------------------------------------------------------------

    /// <summary>Which simple unary op to run.</summary>
    public enum UnaryKind { Neg, Abs, Relu, Sign }

    public static Tensor Unary(UnaryKind kind, Tensor a)
    {
        if (a._numel >= LazyFusion.MinElements && LazyFusion.TryUnary(kind, a) is { } deferred) return deferred;
        var result = Tensor.Empty(a._dtype, a._shape);
        switch (a._dtype)
        {
            case ScalarType.Float32: UnaryT<float>(kind, result, a); break;
            case ScalarType.Float64: UnaryT<double>(kind, result, a); break;
            case ScalarType.Int64: UnaryT<long>(kind, result, a); break;
            case ScalarType.Int32: UnaryT<int>(kind, result, a); break;
            default: throw new NotSupportedException($"\"{kind}\" not implemented for 'Bool'");
        }
        return result;
    }

    static void UnaryT<T>(UnaryKind kind, Tensor dst, Tensor a) where T : unmanaged, System.Numerics.INumber<T>
    {
        switch (kind)
        {
            case UnaryKind.Neg: RunUnary<T, NegOp<T>>(dst, a); break;
            case UnaryKind.Abs: RunUnary<T, AbsOp<T>>(dst, a); break;
            case UnaryKind.Relu: RunUnary<T, ReluOp<T>>(dst, a); break;
            case UnaryKind.Sign: RunUnary<T, SignOp<T>>(dst, a); break;
        }
    }

    static void RunUnary<T, TOp>(Tensor dst, Tensor a) where T : unmanaged where TOp : IUnaryOp<T>
    {
        if (dst._numel == 0) return;
        if (dst.is_contiguous() && dst._numel >= 4096 && IsTransposedLike(a, dst)) a = a.ContiguousRaw();
        var sd = (Storage<T>)dst._storage;
        var sa = (Storage<T>)a._storage;
        if (a.is_contiguous() && dst.is_contiguous())
            Elementwise.UnaryParallel<T, TOp>(sa.Array, sa.Start + a._offset, sd.Array, sd.Start + dst._offset, dst._numel);
        else
            Elementwise.UnaryStrided<T, TOp>(dst._shape, sd.Array, sd.Start + dst._offset, dst._strides, sa.Array, sa.Start + a._offset, a._strides);
    }

    // ---- fused add with alpha ----------------------------------------------------------------------------------

    /// <summary>
    /// dst = a + alpha * b in one fused pass when all three are dense float tensors of one shape and dtype (dst may be
    /// a, for add_); returns false (nothing written) otherwise, and the caller takes the general path.
    /// </summary>
    public static bool TryAxpy(Tensor dst, Tensor a, Tensor b, double alpha)
    {
        var dt = dst._dtype;
        if ((dt != ScalarType.Float32 && dt != ScalarType.Float64) || a._dtype != dt || b._dtype != dt) return false;
        if (!Tensor.ShapesEqual(a, dst) || !Tensor.ShapesEqual(b, dst)) return false;
        if (!dst.is_contiguous() || !a.is_contiguous() || !b.is_contiguous()) return false;
        if (dst._numel == 0) return true;
        if (dt == ScalarType.Float32)
        {
            var (sa, sb, sd) = ((Storage<float>)a._storage, (Storage<float>)b._storage, (Storage<float>)dst._storage);
            Elementwise.AxpyParallel(sa.Array, sa.Start + a._offset, sb.Array, sb.Start + b._offset, (float)alpha, sd.Array, sd.Start + dst._offset, dst._numel);
        }
        else
        {
            var (sa, sb, sd) = ((Storage<double>)a._storage, (Storage<double>)b._storage, (Storage<double>)dst._storage);
            Elementwise.AxpyParallel(sa.Array, sa.Start + a._offset, sb.Array, sb.Start + b._offset, alpha, sd.Array, sd.Start + dst._offset, dst._numel);
        }
        return true;
    }

    // ---- fused backward masks ------------------------------------------------------------------------------------

    /// <summary>
    /// clamp's backward, g where lo &lt;= x &lt;= hi else 0, in one fused pass when nothing records and g, x are dense
    /// float tensors of one shape; otherwise the same rule from recorded ops (so create_graph differentiates it).
    /// </summary>
    public static Tensor ClampGrad(Tensor g, Tensor x, double lo, double hi)
    {
        if (FusableMask(g, x))
        {
            var r = Tensor.Empty(g._dtype, g._shape);
            if (g._dtype == ScalarType.Float32)
            {
                var (sg, sx, sr) = ((Storage<float>)g._storage, (Storage<float>)x._storage, (Storage<float>)r._storage);
                MaskKernels.ClampGradParallel(sg.Array, sg.Start + g._offset, sx.Array, sx.Start + x._offset,
                    (float)lo, (float)hi, sr.Array, sr.Start + r._offset, r._numel);
            }
            else
            {
                var (sg, sx, sr) = ((Storage<double>)g._storage, (Storage<double>)x._storage, (Storage<double>)r._storage);
                MaskKernels.ClampGradParallel(sg.Array, sg.Start + g._offset, sx.Array, sx.Start + x._offset,
                    lo, hi, sr.Array, sr.Start + r._offset, r._numel);
            }
            return r;
        }
        return torch.where((x >= lo) & (x <= hi), g, torch.zeros_like(g));
    }

    /// <summary>threshold_backward: 0 where y &lt;= threshold, else g (relu's backward from its result), fused as <see cref="ClampGrad"/>.</summary>
    public static Tensor ThresholdGrad(Tensor g, Tensor y, double threshold)
    {
        if (FusableMask(g, y))
        {
            var r = Tensor.Empty(g._dtype, g._shape);
            if (g._dtype == ScalarType.Float32)
            {
                var (sg, sy, sr) = ((Storage<float>)g._storage, (Storage<float>)y._storage, (Storage<float>)r._storage);
                MaskKernels.ThresholdGradParallel(sg.Array, sg.Start + g._offset, sy.Array, sy.Start + y._offset,
                    (float)threshold, sr.Array, sr.Start + r._offset, r._numel);
            }
            else
            {
                var (sg, sy, sr) = ((Storage<double>)g._storage, (Storage<double>)y._storage, (Storage<double>)r._storage);
                MaskKernels.ThresholdGradParallel(sg.Array, sg.Start + g._offset, sy.Array, sy.Start + y._offset,
                    threshold, sr.Array, sr.Start + r._offset, r._numel);
            }
            return r;
        }
        return torch.where(y <= threshold, torch.zeros_like(g), g);
    }

    static bool FusableMask(Tensor g, Tensor x) =>
        !Autograd.GradMode.IsEnabled && g._dtype == x._dtype && (g._dtype == ScalarType.Float32 || g._dtype == ScalarType.Float64)
        && Tensor.ShapesEqual(g, x) && g.is_contiguous() && x.is_contiguous();

    // ---- comparisons -------------------------------------------------------------------------------------------------

    /// <summary>Which comparison to run.</summary>
    public enum CompareKind { Eq, Ne, Lt, Le, Gt, Ge }

    public static Tensor Compare(CompareKind kind, Tensor a, Tensor b)
    {
        var dtype = ResultType(a, b);
        a = Cast(a, dtype);
        b = Cast(b, dtype);
        var shape = ShapesEqualOrBroadcast(a, b);
        var result = Tensor.Empty(ScalarType.Bool, shape);
        if (result._numel == 0) return result;
        switch (dtype)
        {
            case ScalarType.Float32: CompareT<float>(kind, result, a, b); break;
            case ScalarType.Float64: CompareT<double>(kind, result, a, b); break;
            case ScalarType.Int64: CompareT<long>(kind, result, a, b); break;
            case ScalarType.Int32: CompareT<int>(kind, result, a, b); break;
            case ScalarType.Bool: CompareT<int>(kind, result, Cast(a, ScalarType.Int32), Cast(b, ScalarType.Int32)); break;
        }
        return result;
    }

    static void CompareT<T>(CompareKind kind, Tensor dst, Tensor a, Tensor b) where T : unmanaged, System.Numerics.INumber<T>
    {
        switch (kind)
        {
            case CompareKind.Eq: RunCompare<T, EqOp<T>>(dst, a, b); break;
            case CompareKind.Ne: RunCompare<T, NeOp<T>>(dst, a, b); break;
            case CompareKind.Lt: RunCompare<T, LtOp<T>>(dst, a, b); break;
            case CompareKind.Le: RunCompare<T, LeOp<T>>(dst, a, b); break;
            case CompareKind.Gt: RunCompare<T, GtOp<T>>(dst, a, b); break;
            case CompareKind.Ge: RunCompare<T, GeOp<T>>(dst, a, b); break;
        }
    }

    static void RunCompare<T, TOp>(Tensor dst, Tensor a, Tensor b) where T : unmanaged where TOp : ICompareOp<T>
    {
        var sd = (Storage<bool>)dst._storage;
        var sa = (Storage<T>)a._storage;
        var sb = (Storage<T>)b._storage;
        if (dst.is_contiguous() && dst._numel >= 4096 && (IsTransposedLike(a, dst) || IsTransposedLike(b, dst)))
        {
            RunCompare<T, TOp>(dst, IsTransposedLike(a, dst) ? a.ContiguousRaw() : a, IsTransposedLike(b, dst) ? b.ContiguousRaw() : b);
            return;
        }
        if (dst.is_contiguous() && Tensor.ShapesEqual(a, dst) && a.is_contiguous())
        {
            var d = sd.Array.AsSpan(sd.Start + dst._offset, dst._numel);
            var x = sa.Array.AsSpan(sa.Start + a._offset, dst._numel);
            if (b._numel == 1) { Elementwise.CompareScalarRight<T, TOp>(x, sb.Array[sb.Start + b._offset], d); return; }
            if (Tensor.ShapesEqual(b, dst) && b.is_contiguous())
            {
                Elementwise.Compare<T, TOp>(x, sb.Array.AsSpan(sb.Start + b._offset, dst._numel), d);
                return;
            }
        }
        Elementwise.CompareStrided<T, TOp>(dst._shape, sd.Array, sd.Start + dst._offset, dst._strides,
            sa.Array, sa.Start + a._offset, BroadcastStrides(a, dst._shape),
            sb.Array, sb.Start + b._offset, BroadcastStrides(b, dst._shape));
    }
}
