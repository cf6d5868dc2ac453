using Nabla.Autograd;
using Nabla.Kernels.Cpu;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

using Nabla.Backends.Cpu;

namespace Nabla.Ops;

/// <summary>gather, scatter (tensor or value source), scatter_add, index_select and masked_fill.</summary>
internal static class GatherScatter
{
    static void CheckIndex(Tensor self, int dim, Tensor index, Tensor? src, string op)
    {
        if (index._dtype != ScalarType.Int64) throw new InvalidOperationException($"{op}(): Expected dtype int64 for index");
        int rank = Math.Max(self._shape.Length, 1);
        if (Math.Max(index._shape.Length, 1) != rank)
            throw new InvalidOperationException("Index tensor must have the same number of dimensions as input tensor");
        if (src is not null && Math.Max(src._shape.Length, 1) != rank)
            throw new InvalidOperationException("Index tensor must have the same number of dimensions as src tensor");
        for (int d = 0; d < index._shape.Length && self._shape.Length > 0; d++)
        {
            bool tooBig = (d != dim && index._shape[d] > self._shape[d]) || (src is not null && index._shape[d] > src._shape[d]);
            if (!tooBig) continue;
            if (src is null)
                throw new InvalidOperationException(
                    $"Size does not match at dimension {d} expected index {ShapeUtil.Format(index._shape)} to be smaller than self {ShapeUtil.Format(self._shape)} apart from dimension {dim}");
            throw new InvalidOperationException(
                $"Expected index {ShapeUtil.Format(index._shape)} to be smaller than self {ShapeUtil.Format(self._shape)} apart from dimension {dim} and to be smaller size than src {ShapeUtil.Format(src._shape)}");
        }
    }

    static long[] Padded(long[] values, int rank, long fill)
    {
        if (values.Length == rank) return values;
        var r = new long[rank];
        Array.Fill(r, fill);
        return r;
    }

    /// <summary>
    /// Visits every position of the index (contiguous, shape <c>shape</c>) row by row (a row is the index's last dim):
    /// for gather, out[p] = self[.., index[p], ..]; for scatter, out[.., index[p], ..] = src[p] or value (or +=).
    /// Each row's indices are validated before the row is written. Gather rows run in parallel (each writes its own
    /// part of the output); so does scatter along the last dim; other scatters run sequentially, as duplicate indices
    /// from different rows make later writes win / accumulate in order.
    /// </summary>
    static void Walk<T>(long[] shape, int dim, long dimSize, long[] idx, int idxOff, int count,
        T[] target, int targetOff, long[] targetStrides, T[] other, int otherOff, long[] otherStrides,
        int mode, T value) where T : unmanaged, System.Numerics.INumber<T>
    {
        // mode 0: gather (target = self, other = out contiguous); 1: scatter src; 2: scatter value; 3: scatter_add src.
        // Array accesses stay bounds-checked (a view can never reach outside its storage).
        int rank = shape.Length;
        var args = new WalkArgs<T>
        {
            Shape = shape, Dim = dim, Idx = idx, IdxOff = idxOff, Target = target, TargetOff = targetOff,
            TargetStrides = targetStrides, Other = other, OtherOff = otherOff, OtherStrides = otherStrides, Mode = mode, Value = value,
            Inner = (int)shape[rank - 1],
            DimSize = dimSize,
            Failed = new bool[1],
            OtherInBounds = mode != 2 && Reaches(other.Length, otherOff, otherStrides, shape, -1, 0),
            TargetInBounds = Reaches(target.Length, targetOff, targetStrides, shape, dim, dimSize),
        };
        int rows = count / args.Inner;
        // Scatter along the last dim also splits by rows: rows differ in the other coordinates, so they write disjoint
        // slices of the (fresh, contiguous) result and each row keeps its own write/accumulation order.
        if ((mode == 0 || dim == rank - 1) && count >= ParallelMin)
            ParallelFor.For(rows, Math.Max(1, ParallelGrain / args.Inner), new WalkBody<T>(args));
        else
            WalkRows(args, 0, rows);
        // A row holding an out-of-range index stopped the walk before writing it (gather's output and scatter's
        // result are fresh tensors, so the rows already written are never seen): report the first bad index in order.
        if (args.Failed[0]) ValidateIndex(idx.AsSpan(idxOff, count), dim, dimSize);
    }

    const int ParallelMin = 32768, ParallelGrain = 16384;

    /// <summary>Throws PyTorch's message for the first out-of-range index (in order); a vectorised min/max pass first.</summary>
    static void ValidateIndex(ReadOnlySpan<long> idx, int dim, long dimSize)
    {
        if (idx.IsEmpty) return;
        foreach (long v in idx)
            if (v < 0 || v >= dimSize)
                throw new InvalidOperationException($"index {v} is out of bounds for dimension {dim} with size {dimSize}");
    }

    // The per-row loops live in small methods of their own so that their few locals stay in registers.

    /// <summary>dst[j] = t[tbase + j * step + ix[j] * ds] without bounds checks (see <see cref="Reaches"/>; indices validated).</summary>
    static void GatherRowUnchecked<T>(T[] t, int tbase, int step, int ds, ReadOnlySpan<long> ix, Span<T> dst) where T : unmanaged
    {
        ref T tr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(t), tbase);
        ref long ir = ref MemoryMarshal.GetReference(ix);
        ref T dr = ref MemoryMarshal.GetReference(dst);
        int n = dst.Length;
        if (step == 0)
        {
            if (ds == 1)
                for (int j = 0; j < n; j++) Unsafe.Add(ref dr, j) = Unsafe.Add(ref tr, (nint)Unsafe.Add(ref ir, j));
            else
                for (int j = 0; j < n; j++) Unsafe.Add(ref dr, j) = Unsafe.Add(ref tr, (nint)Unsafe.Add(ref ir, j) * ds);
        }
        else
        {
            for (int j = 0; j < n; j++) Unsafe.Add(ref dr, j) = Unsafe.Add(ref tr, (nint)j * step + (nint)Unsafe.Add(ref ir, j) * ds);
        }
    }

    static void GatherRow<T>(T[] t, int tbase, int step, int ds, ReadOnlySpan<long> ix, Span<T> dst) where T : unmanaged
    {
        for (int j = 0; j < dst.Length; j++) dst[j] = t[tbase + j * step + (int)ix[j] * ds];
    }

    static void ScatterRow<T>(T[] t, int tbase, int step, int ds, ReadOnlySpan<long> ix, T[] o, int obase, int ostep) where T : unmanaged
    {
        for (int j = 0; j < ix.Length; j++) t[tbase + j * step + (int)ix[j] * ds] = o[obase + j * ostep];
    }

    static void FillRow<T>(T[] t, int tbase, int step, int ds, ReadOnlySpan<long> ix, T value) where T : unmanaged
    {
        for (int j = 0; j < ix.Length; j++) t[tbase + j * step + (int)ix[j] * ds] = value;
    }

    /// <summary><see cref="ScatterAddRow{T}"/> without bounds checks (both operands' reach checked, indices validated).</summary>
    static void ScatterAddRowUnchecked<T>(T[] t, int tbase, int step, int ds, ReadOnlySpan<long> ix, T[] o, int obase, int ostep)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        ref T tr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(t), tbase);
        ref T or = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(o), obase);
        ref long ir = ref MemoryMarshal.GetReference(ix);
        for (int j = 0; j < ix.Length; j++)
            Unsafe.Add(ref tr, (nint)j * step + (nint)Unsafe.Add(ref ir, j) * ds) += Unsafe.Add(ref or, (nint)j * ostep);
    }

    static void ScatterAddRow<T>(T[] t, int tbase, int step, int ds, ReadOnlySpan<long> ix, T[] o, int obase, int ostep)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        for (int j = 0; j < ix.Length; j++) t[tbase + j * step + (int)ix[j] * ds] += o[obase + j * ostep];
    }

    /// <summary>True when every index of the row lies in [0, size) (as unsigned, negatives are huge): a vectorised max.</summary>
    static bool RowValid(ReadOnlySpan<long> ix, ulong size)
    {
        int j = 0, n = ix.Length;
        var u = MemoryMarshal.Cast<long, ulong>(ix);
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && n >= 4)
        {
            ref ulong p = ref MemoryMarshal.GetReference(u);
            var acc = System.Runtime.Intrinsics.Vector256<ulong>.Zero;
            for (; j <= n - 4; j += 4) acc = System.Runtime.Intrinsics.Vector256.Max(acc, System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref p, (nuint)j));
            ulong m = Math.Max(Math.Max(acc[0], acc[1]), Math.Max(acc[2], acc[3]));
            if (m >= size) return false;
        }
        for (; j < n; j++)
            if (u[j] >= size) return false;
        return true;
    }

    /// <summary>True when every offset the walk can form (each dim from 0 to its last position, the indexed dim up to dimSize - 1) lies in [0, length).</summary>
    static bool Reaches(int length, long off, long[] strides, long[] shape, int dim, long dimSize)
    {
        long max = off, min = off;
        for (int d = 0; d < shape.Length; d++)
        {
            long extent = (d == dim ? dimSize : shape[d]) - 1;
            if (extent <= 0) continue;
            long reach = extent * strides[d];
            if (reach > 0) max += reach; else min += reach;
        }
        return min >= 0 && max < length;
    }

    struct WalkArgs<T> where T : unmanaged
    {
        public long[] Shape, TargetStrides, OtherStrides, Idx;
        public T[] Target, Other;
        public int Dim, IdxOff, TargetOff, OtherOff, Mode, Inner;
        public long DimSize;
        public T Value;
        public bool TargetInBounds, OtherInBounds;
        public bool[] Failed;
    }

    readonly struct WalkBody<T>(WalkArgs<T> args) : IRangeBody where T : unmanaged, System.Numerics.INumber<T>
    {
        public void Invoke(int begin, int end) => WalkRows(args, begin, end);
    }

    /// <summary>Rows [rowBegin, rowEnd) of the index: an odometer over the outer dims, a tight loop over the last one.</summary>
    static void WalkRows<T>(in WalkArgs<T> a, int rowBegin, int rowEnd) where T : unmanaged, System.Numerics.INumber<T>
    {
        var shape = a.Shape;
        int rank = shape.Length, dim = a.Dim, inner = a.Inner;
        var ts = a.TargetStrides;
        var os = a.OtherStrides;
        Span<long> counter = rank <= 16 ? stackalloc long[rank] : new long[rank];
        long tb = a.TargetOff, ob = a.OtherOff;
        long r = rowBegin;
        for (int d = rank - 2; d >= 0; d--)
        {
            counter[d] = r % shape[d];
            r /= shape[d];
            if (d != dim) tb += counter[d] * ts[d];
            ob += counter[d] * os[d];
        }
        int ds = (int)ts[dim];
        int step = dim == rank - 1 ? 0 : (int)ts[rank - 1];
        int ostep = (int)os[rank - 1];
        T[] t = a.Target, o = a.Other;
        long[] idx = a.Idx;
        T value = a.Value;
        for (int row = rowBegin; row < rowEnd; row++)
        {
            var ix = idx.AsSpan(a.IdxOff + row * inner, inner);
            if (!RowValid(ix, (ulong)a.DimSize))
            {
                a.Failed[0] = true;
                return;
            }
            int tbase = (int)tb, obase = (int)ob;
            switch (a.Mode)
            {
                case 0:
                    if (a.TargetInBounds) GatherRowUnchecked(t, tbase, step, ds, ix, o.AsSpan(obase, inner));
                    else GatherRow(t, tbase, step, ds, ix, o.AsSpan(obase, inner));
                    break;
                case 1: ScatterRow(t, tbase, step, ds, ix, o, obase, ostep); break;
                case 2: FillRow(t, tbase, step, ds, ix, value); break;
                default:
                    if (a.TargetInBounds && a.OtherInBounds) ScatterAddRowUnchecked(t, tbase, step, ds, ix, o, obase, ostep);
                    else ScatterAddRow(t, tbase, step, ds, ix, o, obase, ostep);
                    break;
            }
            for (int d = rank - 2; d >= 0; d--)
            {
                counter[d]++;
                if (d != dim) tb += ts[d];
                ob += os[d];
                if (counter[d] < shape[d]) break;
                if (d != dim) tb -= ts[d] * shape[d];
                ob -= os[d] * shape[d];
                counter[d] = 0;
            }
        }
    }

    static void WalkTyped(Tensor target, Tensor index, int dim, Tensor? other, int mode, Scalar value)
    {
        switch (target._dtype)
        {
            case ScalarType.Float32: WalkT<float>(target, index, dim, other, mode, value.As<float>()); break;
            case ScalarType.Float64: WalkT<double>(target, index, dim, other, mode, value.As<double>()); break;
            case ScalarType.Int64: WalkT<long>(target, index, dim, other, mode, value.As<long>()); break;
            case ScalarType.Int32: WalkT<int>(target, index, dim, other, mode, value.As<int>()); break;
            default:
            {
                // bool: work in int32 and copy back
                var asInt = Raw.ToDType(target, ScalarType.Int32);
                var o = other is null ? null : (mode == 0 ? Tensor.Empty(ScalarType.Int32, other._shape) : Raw.ToDType(other, ScalarType.Int32));
                WalkT<int>(asInt, index, dim, o, mode, value.Value != 0 ? 1 : 0);
                if (mode == 0) Raw.CopyInto(other!, o!);
                else Raw.CopyInto(target, asInt);
                break;
            }
        }
    }

    static void WalkT<T>(Tensor target, Tensor index, int dim, Tensor? other, int mode, T value) where T : unmanaged, System.Numerics.INumber<T>
    {
        if (index._numel == 0) return;
        var ic = index.is_contiguous() ? index : index.ContiguousRaw();
        var isg = (CpuStorage<long>)ic._storage;
        int rank = Math.Max(index._shape.Length, 1);
        var shape = Padded(index._shape, rank, 1);
        var ts = (CpuStorage<T>)target._storage;
        long dimSize = target._shape.Length == 0 ? 1 : target._shape[dim];
        var targetStrides = Padded(target._strides, rank, 1);
        T[] otherArray = System.Array.Empty<T>();
        int otherOff = 0;
        long[] otherStrides = new long[rank];
        if (other is not null)
        {
            var os = (CpuStorage<T>)other._storage;
            otherArray = os.Array;
            otherOff = os.Start + other._offset;
            otherStrides = Padded(other._strides, rank, 0);
        }
        Walk(shape, dim, dimSize, isg.Array, isg.Start + ic._offset, ic._numel, ts.Array, ts.Start + target._offset, targetStrides,
            otherArray, otherOff, otherStrides, mode, value);
    }

    /// <summary>out[i][j] = self[index[i][j]][j] (for dim 0), shaped as index (GatherBackward0).</summary>
    public static Tensor Gather(Tensor self, long dim, Tensor index)
    {
        int d = ShapeUtil.WrapDim(dim, self._shape.Length);
        CheckIndex(self, d, index, null, "gather");
        var result = Tensor.Empty(self._dtype, index._shape);
        WalkTyped(self, index, d, result, 0, default);
        if (Autograd.Autograd.ShouldRecord(self))
        {
            var node = new GatherBackward0(self, d, index);
            node.SetNextEdges(self);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    /// <summary>A copy of self with src (or value) written at the indexed positions; add accumulates instead.</summary>
    static Tensor ScatterCore(Tensor self, long dim, Tensor index, Tensor? src, Scalar value, bool add, string op)
    {
        int d = ShapeUtil.WrapDim(dim, self._shape.Length);
        if (src is not null && src._dtype != self._dtype) throw new InvalidOperationException($"{op}(): Expected self.dtype to be equal to src.dtype");
        CheckIndex(self, d, index, src, op);
        var result = Tensor.Empty(self._dtype, self._shape);
        Raw.CopyInto(result, self);
        WalkTyped(result, index, d, src, src is null ? 2 : add ? 3 : 1, value);
        return result;
    }

    /// <summary>scatter with a tensor source (ScatterBackward0: self gets grad with the scattered places zeroed; src gathers).</summary>
    public static Tensor Scatter(Tensor self, long dim, Tensor index, Tensor src)
    {
        var result = ScatterCore(self, dim, index, src, default, false, "scatter");
        if (Autograd.Autograd.ShouldRecord(self, src))
        {
            var node = new ScatterBackward("ScatterBackward0", ShapeUtil.WrapDim(dim, self._shape.Length), index, src, add: false);
            node.SetNextEdges(self, src);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    /// <summary>scatter with a scalar value (ScatterBackward1).</summary>
    public static Tensor Scatter(Tensor self, long dim, Tensor index, Scalar value)
    {
        var result = ScatterCore(self, dim, index, null, value, false, "scatter");
        if (Autograd.Autograd.ShouldRecord(self))
        {
            var node = new ScatterBackward("ScatterBackward1", ShapeUtil.WrapDim(dim, self._shape.Length), index, null, add: false);
            node.SetNextEdges(self);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    /// <summary>self with src added at the indexed positions (ScatterAddBackward0).</summary>
    public static Tensor ScatterAdd(Tensor self, long dim, Tensor index, Tensor src)
    {
        var result = ScatterCore(self, dim, index, src, default, true, "scatter_add");
        if (Autograd.Autograd.ShouldRecord(self, src))
        {
            var node = new ScatterBackward("ScatterAddBackward0", ShapeUtil.WrapDim(dim, self._shape.Length), index, src, add: true);
            node.SetNextEdges(self, src);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    /// <summary>The slices of self at the given indices along dim (IndexSelectBackward0).</summary>
    public static Tensor IndexSelect(Tensor self, long dim, Tensor index)
    {
        if (index._dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new InvalidOperationException("index_select(): Expected dtype int32 or int64 for index");
        if (index._shape.Length > 1) throw new IndexOutOfRangeException("index_select(): Index is supposed to be a vector");
        int rank = self._shape.Length;
        int d = ShapeUtil.WrapDim(dim, rank);
        var idx = Raw.Cast(index, ScalarType.Int64).ContiguousRaw().Contiguous<long>();
        long size = rank == 0 ? 1 : self._shape[d];
        var shape = (long[])self._shape.Clone();
        if (rank > 0) shape[d] = idx.Length;
        var result = Tensor.Empty(self._dtype, shape);
        foreach (long v in idx)
            if (v < 0 || v >= size) throw new IndexOutOfRangeException("index out of range in self");
        if (rank > 0 && self.is_contiguous() && result._numel > 0)
        {
            switch (self._dtype)
            {
                case ScalarType.Float32: SelectBlocks<float>(self, d, idx, result); break;
                case ScalarType.Float64: SelectBlocks<double>(self, d, idx, result); break;
                case ScalarType.Int64: SelectBlocks<long>(self, d, idx, result); break;
                case ScalarType.Int32: SelectBlocks<int>(self, d, idx, result); break;
                default: SelectBlocks<bool>(self, d, idx, result); break;
            }
        }
        else
        {
            for (int j = 0; j < idx.Length; j++)
            {
                if (rank == 0) Raw.CopyInto(result, self);
                else Raw.CopyInto(Joining.SelectRaw(result, d, j), Joining.SelectRaw(self, d, idx[j]));
            }
        }
        if (Autograd.Autograd.ShouldRecord(self))
        {
            var node = new IndexSelectBackward0(self, d, Raw.Cast(index, ScalarType.Int64));
            node.SetNextEdges(self);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    /// <summary>
    /// index_select on a contiguous self: self viewed as [outer, size, inner], the result as [outer, n, inner]; block
    /// (o, j) copies self[o, index[j], :] (indices already validated). Blocks run in parallel for large results.
    /// </summary>
    static void SelectBlocks<T>(Tensor self, int dim, ReadOnlySpan<long> idx, Tensor result) where T : unmanaged
    {
        long outer = 1, inner = 1;
        for (int k = 0; k < dim; k++) outer *= self._shape[k];
        for (int k = dim + 1; k < self._shape.Length; k++) inner *= self._shape[k];
        var (ss, sr) = ((CpuStorage<T>)self._storage, (CpuStorage<T>)result._storage);
        var body = new SelectBody<T>(ss.Array, ss.Start + self._offset, sr.Array, sr.Start + result._offset, idx.ToArray(),
            (int)self._shape[dim], (int)inner);
        int blocks = (int)(outer * idx.Length);
        if (result._numel >= ParallelMin) ParallelFor.For(blocks, (int)Math.Max(1, ParallelGrain / inner), body);
        else body.Invoke(0, blocks);
    }

    readonly struct SelectBody<T>(T[] src, int srcOff, T[] dst, int dstOff, long[] idx, int size, int inner) : IRangeBody where T : unmanaged
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int begin, int end)
        {
            int n = idx.Length;
            if (inner == 1)
            {
                for (int b = begin; b < end; b++)
                {
                    int o = b / n, j = b - o * n;
                    dst[dstOff + b] = src[srcOff + o * size + (int)idx[j]];
                }
                return;
            }
            for (int b = begin; b < end; b++)
            {
                int o = b / n, j = b - o * n;
                src.AsSpan(srcOff + (o * size + (int)idx[j]) * inner, inner).CopyTo(dst.AsSpan(dstOff + b * inner, inner));
            }
        }
    }

    /// <summary>A copy of self with <paramref name="value"/> where <paramref name="mask"/> (broadcast to self) is true.</summary>
    static Tensor MaskedFillRaw(Tensor self, Tensor mask, Scalar value)
    {
        var shape = ShapeUtil.Broadcast(mask._shape, self._shape);
        if (!ShapeUtil.SameShape(shape, self._shape))
            throw new InvalidOperationException(
                $"masked_fill: the mask of shape {ShapeUtil.Format(mask._shape)} cannot be broadcast to the input of shape {ShapeUtil.Format(self._shape)}");
        var m = mask._dtype == ScalarType.Bool ? mask : mask.ne(0);
        var me = m.expand(self._shape);
        var bits = (me.is_contiguous() ? me : me.ContiguousRaw()).Contiguous<bool>();
        var src = self.is_contiguous() ? self : self.ContiguousRaw();
        var result = Tensor.Empty(self._dtype, self._shape);
        switch (self._dtype)
        {
            case ScalarType.Float32: Fill(result, src, bits, value.As<float>()); break;
            case ScalarType.Float64: Fill(result, src, bits, value.As<double>()); break;
            case ScalarType.Int64: Fill(result, src, bits, value.As<long>()); break;
            case ScalarType.Int32: Fill(result, src, bits, value.As<int>()); break;
            default: Fill(result, src, bits, value.Value != 0); break;
        }
        return result;
    }

    static void Fill<T>(Tensor result, Tensor src, ReadOnlySpan<bool> mask, T value) where T : unmanaged =>
        SelectKernels.Select(mask, default, value, true, src.Contiguous<T>(), result.Contiguous<T>());

    /// <summary>masked_fill with a scalar (MaskedFillBackward0).</summary>
    public static Tensor MaskedFill(Tensor self, Tensor mask, Scalar value)
    {
        var result = MaskedFillRaw(self, mask, value);
        if (Autograd.Autograd.ShouldRecord(self))
        {
            var node = new MaskedFillBackward(self, mask, null);
            node.SetNextEdges(self);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    /// <summary>masked_fill with a 0-d tensor value (MaskedFillBackward1; the value gets the sum of the masked gradient).</summary>
    public static Tensor MaskedFill(Tensor self, Tensor mask, Tensor value)
    {
        if (value._shape.Length != 0)
            throw new InvalidOperationException(
                $"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value._shape.Length} dimension(s).");
        var result = MaskedFillRaw(self, mask, value.ToDouble());
        if (Autograd.Autograd.ShouldRecord(self, value))
        {
            var node = new MaskedFillBackward(self, mask, value);
            node.SetNextEdges(self, value);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }
}

/// <summary>Backward of gather: the gradient scatter-added into zeros of self's shape.</summary>
internal sealed class GatherBackward0 : Node
{
    readonly long[] _selfShape;
    readonly ScalarType _selfType;
    readonly int _dim;
    SavedTensor _index;

    public GatherBackward0(Tensor self, int dim, Tensor index)
    {
        _selfShape = self._shape; _selfType = self._dtype; _dim = dim; _index = new SavedTensor(index);
    }

    public override string name() => "GatherBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g) =>
        new[] { torch.zeros(_selfShape, _selfType).scatter_add(_dim, _index.Unpack(this), g[0]!) };

    protected internal override void ReleaseVariables() => _index.Release();
}

/// <summary>Backward of scatter/scatter_add: self keeps the gradient (zeroed where overwritten); src gathers it.</summary>
internal sealed class ScatterBackward : Node
{
    readonly string _name;
    readonly int _dim;
    SavedTensor _index;
    readonly bool _hasSrc, _add;

    readonly long[] _srcShape;

    public ScatterBackward(string name, int dim, Tensor index, Tensor? src, bool add)
    {
        _name = name; _dim = dim; _index = new SavedTensor(index); _hasSrc = src is not null; _add = add;
        _srcShape = src?._shape ?? System.Array.Empty<long>();
    }

    /// <summary>src may be larger than index: the elements the index never reads get a zero gradient.</summary>
    static Tensor PadTo(Tensor grad, long[] shape)
    {
        for (int d = 0; d < shape.Length && d < grad._shape.Length; d++)
        {
            long missing = shape[d] - grad._shape[d];
            if (missing <= 0) continue;
            var zerosShape = grad.shape;
            zerosShape[d] = missing;
            grad = torch.cat(new[] { grad, torch.zeros(zerosShape, grad._dtype) }, d);
        }
        return grad;
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        var index = _index.Unpack(this);
        Tensor? gradSelf = null, gradSrc = null;
        if (NeedsInputGrad(0)) gradSelf = _add ? grad : grad.scatter(_dim, index, 0.0);
        if (_hasSrc && NeedsInputGrad(1)) gradSrc = PadTo(grad.gather(_dim, index), _srcShape);
        return _hasSrc ? new[] { gradSelf, gradSrc } : new[] { gradSelf };
    }

    protected internal override void ReleaseVariables() => _index.Release();
}

/// <summary>Backward of index_select: the gradient's slices added back at their indices (index_add into zeros).</summary>
internal sealed class IndexSelectBackward0 : Node
{
    readonly long[] _selfShape;
    readonly ScalarType _selfType;
    readonly int _dim;
    SavedTensor _index;

    public IndexSelectBackward0(Tensor self, int dim, Tensor index)
    {
        _selfShape = self._shape; _selfType = self._dtype; _dim = dim; _index = new SavedTensor(index);
    }

    public override string name() => "IndexSelectBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        var index = _index.Unpack(this);
        if (_selfShape.Length == 0) return new[] { grad.reshape(_selfShape) };
        // index_add as scatter_add: broadcast the 1-D index along every other dim of the gradient.
        var view = new long[_selfShape.Length];
        Array.Fill(view, 1L);
        view[_dim] = index._numel;
        var expanded = index.reshape(view).expand(grad._shape);
        return new[] { torch.zeros(_selfShape, _selfType).scatter_add(_dim, expanded.contiguous(), grad) };
    }

    protected internal override void ReleaseVariables() => _index.Release();
}

/// <summary>Backward of masked_fill: zero where filled; a tensor value receives the sum of those gradients.</summary>
internal sealed class MaskedFillBackward : Node
{
    readonly Tensor _mask;
    readonly bool _hasValue;
    readonly ScalarType _valueType;

    public MaskedFillBackward(Tensor self, Tensor mask, Tensor? value)
    {
        _mask = mask._dtype == ScalarType.Bool ? mask : mask.ne(0);
        _hasValue = value is not null;
        _valueType = value?._dtype ?? self._dtype;
    }

    public override string name() => _hasValue ? "MaskedFillBackward1" : "MaskedFillBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        var gradSelf = NeedsInputGrad(0) ? grad.masked_fill(_mask, 0.0) : null;
        if (!_hasValue) return new[] { gradSelf };
        Tensor? gradValue = null;
        if (NeedsInputGrad(1)) gradValue = Reduce.CastGrad((grad * _mask.to(grad._dtype)).sum(), _valueType);
        return new[] { gradSelf, gradValue };
    }
}
