using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Nabla.Kernels.Cpu;

namespace Nabla.Backends.Cpu;

// gather / scatter / scatter_add along a dim, index_select and masked_fill on the CPU: one walk over the index rows
// (GatherScatterKernels.Walk) with the index validated row by row, block copies for index_select.
internal sealed partial class CpuBackend
{
    public override void Gather(in Operand dst, in Operand self, in Operand index, int dim) =>
        GatherScatterKernels.WalkTyped(self, index, dim, dst, 0, default);

    public override void Scatter(ScatterMode mode, in Operand dst, in Operand index, in Operand src, int dim, Scalar value) =>
        GatherScatterKernels.WalkTyped(dst, index, dim, src, (int)mode, value);

    public override void IndexSelect(in Operand dst, in Operand self, in Operand index, int d)
    {
        var idx = Read<long>(index);
        int rank = self.Rank;
        long size = rank == 0 ? 1 : self.Shape[d];
        foreach (long v in idx)
            if (v < 0 || v >= size) throw new IndexOutOfRangeException("index out of range in self");
        if (rank > 0 && self.IsContiguous && dst.Numel > 0)
        {
            switch (self.DType)
            {
                case ScalarType.Float32: GatherScatterKernels.SelectBlocks<float>(self, d, idx, dst); break;
                case ScalarType.Float64: GatherScatterKernels.SelectBlocks<double>(self, d, idx, dst); break;
                case ScalarType.Int64: GatherScatterKernels.SelectBlocks<long>(self, d, idx, dst); break;
                case ScalarType.Int32: GatherScatterKernels.SelectBlocks<int>(self, d, idx, dst); break;
                default: GatherScatterKernels.SelectBlocks<bool>(self, d, idx, dst); break;
            }
        }
        else
        {
            for (int j = 0; j < idx.Length; j++)
            {
                if (rank == 0) Copy(dst, self);
                else Copy(SelectView(dst, d, j), SelectView(self, d, idx[j]));
            }
        }
    }

    /// <summary>The view of <paramref name="t"/> at position <paramref name="index"/> of <paramref name="dim"/> (the dim removed).</summary>
    internal static Operand SelectView(in Operand t, int dim, long index)
    {
        int rank = t.Rank;
        var shape = new long[rank - 1];
        var strides = new long[rank - 1];
        for (int i = 0, j = 0; i < rank; i++)
        {
            if (i == dim) continue;
            shape[j] = t.Shape[i];
            strides[j++] = t.Strides[i];
        }
        return t.With(shape, strides, t.Offset + (int)(index * t.Strides[dim]));
    }

    public override void MaskedFill(in Operand dst, in Operand src, in Operand mask, Scalar value)
    {
        var bits = Read<bool>(mask);
        var s = ContiguousCopy(src);
        switch (dst.DType)
        {
            case ScalarType.Float32: SelectKernels.Select(bits, default, value.As<float>(), true, Dense<float>(s), Dense<float>(dst)); break;
            case ScalarType.Float64: SelectKernels.Select(bits, default, value.As<double>(), true, Dense<double>(s), Dense<double>(dst)); break;
            case ScalarType.Int64: SelectKernels.Select(bits, default, value.As<long>(), true, Dense<long>(s), Dense<long>(dst)); break;
            case ScalarType.Int32: SelectKernels.Select(bits, default, value.As<int>(), true, Dense<int>(s), Dense<int>(dst)); break;
            default: SelectKernels.Select(bits, default, value.Value != 0, true, Dense<bool>(s), Dense<bool>(dst)); break;
        }
    }
}

/// <summary>The walk of gather/scatter (moved from Ops/GatherScatter.cs) and index_select's block copy.</summary>
file static class GatherScatterKernels
{
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

    internal static void WalkTyped(in Operand target, in Operand index, int dim, in Operand other, int mode, Scalar value)
    {
        bool hasOther = other.Storage is not null;
        switch (target.DType)
        {
            case ScalarType.Float32: WalkT<float>(target, index, dim, other, mode, value.As<float>()); break;
            case ScalarType.Float64: WalkT<double>(target, index, dim, other, mode, value.As<double>()); break;
            case ScalarType.Int64: WalkT<long>(target, index, dim, other, mode, value.As<long>()); break;
            case ScalarType.Int32: WalkT<int>(target, index, dim, other, mode, value.As<int>()); break;
            default:
            {
                // bool: work in int32 and copy back
                var asInt = CpuBackend.Empty(ScalarType.Int32, target.Shape);
                CpuBackend.Instance.Copy(asInt, target);
                var o = !hasOther ? default : CpuBackend.Empty(ScalarType.Int32, other.Shape);
                if (hasOther && mode != 0) CpuBackend.Instance.Copy(o, other);
                WalkT<int>(asInt, index, dim, o, mode, value.Value != 0 ? 1 : 0);
                if (mode == 0) CpuBackend.Instance.Copy(other, o);
                else CpuBackend.Instance.Copy(target, asInt);
                break;
            }
        }
    }

    static void WalkT<T>(in Operand target, in Operand index, int dim, in Operand other, int mode, T value) where T : unmanaged, System.Numerics.INumber<T>
    {
        if (index.Numel == 0) return;
        var ic = CpuBackend.ContiguousCopy(index);
        var isg = (CpuStorage<long>)ic.Storage;
        int rank = Math.Max(index.Rank, 1);
        var shape = Padded(index.Shape, rank, 1);
        var ts = (CpuStorage<T>)target.Storage;
        long dimSize = target.Rank == 0 ? 1 : target.Shape[dim];
        var targetStrides = Padded(target.Strides, rank, 1);
        T[] otherArray = System.Array.Empty<T>();
        int otherOff = 0;
        long[] otherStrides = new long[rank];
        if (other.Storage is not null)
        {
            var os = (CpuStorage<T>)other.Storage;
            otherArray = os.Array;
            otherOff = os.Start + other.Offset;
            otherStrides = Padded(other.Strides, rank, 0);
        }
        Walk(shape, dim, dimSize, isg.Array, isg.Start + ic.Offset, ic.Numel, ts.Array, ts.Start + target.Offset, targetStrides,
            otherArray, otherOff, otherStrides, mode, value);
    }

    /// <summary>
    /// index_select on a contiguous self: self viewed as [outer, size, inner], the result as [outer, n, inner]; block
    /// (o, j) copies self[o, index[j], :] (indices already validated). Blocks run in parallel for large results.
    /// </summary>
    internal static void SelectBlocks<T>(in Operand self, int dim, ReadOnlySpan<long> idx, in Operand result) where T : unmanaged
    {
        long outer = 1, inner = 1;
        for (int k = 0; k < dim; k++) outer *= self.Shape[k];
        for (int k = dim + 1; k < self.Rank; k++) inner *= self.Shape[k];
        var (ss, sr) = ((CpuStorage<T>)self.Storage, (CpuStorage<T>)result.Storage);
        var body = new SelectBody<T>(ss.Array, ss.Start + self.Offset, sr.Array, sr.Start + result.Offset, idx.ToArray(),
            (int)self.Shape[dim], (int)inner);
        int blocks = (int)(outer * idx.Length);
        if (result.Numel >= ParallelMin) ParallelFor.For(blocks, (int)Math.Max(1, ParallelGrain / inner), body);
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
}
