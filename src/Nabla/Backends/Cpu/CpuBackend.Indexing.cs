using System.Numerics;

namespace Nabla.Backends.Cpu;

// Note [Advanced indexing layout]
// x[i0, :, i2] with index tensors broadcast to shape B reads, for every position p of B and every position of the
// dims that are not indexed, the element at  base + sum_k i_k[p] * stride_k + (offset of the other dims).
// PyTorch puts the B dims where the indexed dims were when those are adjacent, and first otherwise; the dims that
// are not indexed keep their order. The output is then  pre + B + post  (pre empty in the non-adjacent case), and
// the source offset of output element (a, p, c) is  base + pre[a] + adv[p] + post[c]: three offset tables computed
// once, so the gather / scatter loops do no index arithmetic. (The output shape alone is computed above the wall by
// Indexing.AdvancedShape, from shapes only.)

// Advanced indexing and nonzero on the CPU: the offset tables of Note [Advanced indexing layout], then plain loops.
internal sealed partial class CpuBackend
{
    public override void IndexGather(in Operand dst, in Operand src, Operand[] indices)
    {
        var layout = AdvancedLayout.Create(src, indices);
        if (dst.Numel == 0) return;
        switch (src.DType)
        {
            case ScalarType.Float32: IndexingKernels.GatherT<float>(src, dst, layout); break;
            case ScalarType.Float64: IndexingKernels.GatherT<double>(src, dst, layout); break;
            case ScalarType.Int64: IndexingKernels.GatherT<long>(src, dst, layout); break;
            case ScalarType.Int32: IndexingKernels.GatherT<int>(src, dst, layout); break;
            case ScalarType.Bool: IndexingKernels.GatherT<bool>(src, dst, layout); break;
        }
    }

    public override void IndexScatter(in Operand dst, Operand[] indices, in Operand values, bool accumulate)
    {
        var layout = AdvancedLayout.Create(dst, indices);
        if (values.Numel == 0) return;
        var v = ContiguousCopy(values);
        switch (dst.DType)
        {
            case ScalarType.Float32: IndexingKernels.ScatterT<float>(dst, layout, v, accumulate); break;
            case ScalarType.Float64: IndexingKernels.ScatterT<double>(dst, layout, v, accumulate); break;
            case ScalarType.Int64: IndexingKernels.ScatterT<long>(dst, layout, v, accumulate); break;
            case ScalarType.Int32: IndexingKernels.ScatterT<int>(dst, layout, v, accumulate); break;
            case ScalarType.Bool: IndexingKernels.ScatterBool(dst, layout, v, accumulate); break;
        }
    }

    public override int CountNonzero(in Operand mask)
    {
        int count = 0;
        foreach (bool b in Read<bool>(mask)) if (b) count++;
        return count;
    }

    public override void NonzeroPerDim(in Operand dst, in Operand mask)
    {
        var m = Read<bool>(mask);
        var shape = mask.Shape;
        int rank = shape.Length;
        var d = Dense<long>(dst);
        int count = rank == 0 ? 0 : d.Length / rank;
        var position = new long[rank];
        int k = 0;
        for (int i = 0; i < m.Length; i++)
        {
            if (m[i])
            {
                for (int j = 0; j < rank; j++) d[j * count + k] = position[j];
                k++;
            }
            for (int j = rank - 1; j >= 0; j--)
            {
                if (++position[j] < shape[j]) break;
                position[j] = 0;
            }
        }
    }
}

/// <summary>The offset tables of Note [Advanced indexing layout] for one operand geometry and one set of index operands.</summary>
internal sealed class AdvancedLayout
{
    public long[] PreOffsets = System.Array.Empty<long>();
    public long[] AdvOffsets = System.Array.Empty<long>();
    public long[] PostOffsets = System.Array.Empty<long>();
    public long Base;
    public bool PostContiguous;

    /// <summary>
    /// Builds the tables for indexing <paramref name="t"/> (its shape, strides and offset) with
    /// <paramref name="indices"/> (one int64 operand or <c>default</c> per dim of t; their shapes broadcast, which the
    /// op has checked), checking bounds as PyTorch does.
    /// </summary>
    public static AdvancedLayout Create(in Operand t, Operand[] indices)
    {
        int rank = t.Rank;
        var broadcast = System.Array.Empty<long>();
        int first = -1, last = -1;
        for (int d = 0; d < indices.Length; d++)
        {
            if (indices[d].Storage is null) continue;
            if (first < 0) first = d;
            last = d;
            broadcast = ShapeUtil.Broadcast(broadcast, indices[d].Shape);
        }
        bool adjacent = true;
        for (int d = first; d <= last; d++) if (indices[d].Storage is null) adjacent = false;

        var layout = new AdvancedLayout { Base = t.Offset };
        int nb = ShapeUtil.Numel(broadcast);
        var adv = new long[nb];
        int ordinal = 0;
        for (int d = 0; d < indices.Length; d++)
        {
            if (indices[d].Storage is null) continue;
            var full = CpuBackend.Empty(ScalarType.Int64, broadcast);
            CpuBackend.Instance.Copy(full, indices[d]);
            var values = CpuBackend.Dense<long>(full);
            long size = t.Shape[d], stride = t.Strides[d];
            for (int p = 0; p < nb; p++)
            {
                long v = values[p];
                if (v < -size || v >= size)
                    throw new IndexOutOfRangeException($"index {v} is out of bounds for dimension {ordinal} with size {size}");
                adv[p] += (v < 0 ? v + size : v) * stride;
            }
            ordinal++;
        }
        layout.AdvOffsets = adv;

        var preDims = new List<int>();
        var postDims = new List<int>();
        for (int d = 0; d < rank; d++)
        {
            if (d < indices.Length && indices[d].Storage is not null) continue;
            if (adjacent && d < first) preDims.Add(d); else postDims.Add(d);
        }
        layout.PreOffsets = Offsets(t, preDims);
        layout.PostOffsets = Offsets(t, postDims);
        layout.PostContiguous = true;
        for (int i = 0; i < layout.PostOffsets.Length; i++)
            if (layout.PostOffsets[i] != i) { layout.PostContiguous = false; break; }
        return layout;
    }

    /// <summary>Row-major table of storage offsets over the given dims of t (relative to t's offset).</summary>
    static long[] Offsets(in Operand t, List<int> dims)
    {
        long count = 1;
        foreach (int d in dims) count *= t.Shape[d];
        var result = new long[count];
        if (count == 0) return result;
        long span = 1;
        for (int k = dims.Count - 1; k >= 0; k--)
        {
            long size = t.Shape[dims[k]], stride = t.Strides[dims[k]];
            // result[i] for i in [0, span*size): block j of length span gets +j*stride.
            for (long j = size - 1; j >= 0; j--)
                for (long i = 0; i < span; i++)
                    result[j * span + i] = result[i] + j * stride;
            span *= size;
        }
        return result;
    }
}

/// <summary>The gather / scatter loops of advanced indexing over the offset tables.</summary>
file static class IndexingKernels
{
    internal static void GatherT<T>(in Operand src, in Operand dst, AdvancedLayout l) where T : unmanaged
    {
        var s = (CpuStorage<T>)src.Storage;
        var d = (CpuStorage<T>)dst.Storage;
        T[] sa = s.Array, da = d.Array;
        long start = s.Start + l.Base;
        int k = d.Start + dst.Offset;
        int nPost = l.PostOffsets.Length;
        foreach (long pre in l.PreOffsets)
            foreach (long a in l.AdvOffsets)
            {
                long b = start + pre + a;
                if (nPost == 1)
                    da[k++] = sa[b + l.PostOffsets[0]];
                else if (l.PostContiguous)
                {
                    System.Array.Copy(sa, b, da, k, nPost);
                    k += nPost;
                }
                else
                    foreach (long q in l.PostOffsets) da[k++] = sa[b + q];
            }
    }

    internal static void ScatterT<T>(in Operand dst, AdvancedLayout l, in Operand values, bool accumulate) where T : unmanaged, INumber<T>
    {
        var d = (CpuStorage<T>)dst.Storage;
        T[] da = d.Array;
        var src = CpuBackend.Dense<T>(values);
        long start = d.Start + l.Base;
        int k = 0;
        foreach (long pre in l.PreOffsets)
            foreach (long a in l.AdvOffsets)
            {
                long b = start + pre + a;
                if (accumulate)
                    foreach (long q in l.PostOffsets) da[b + q] += src[k++];
                else
                    foreach (long q in l.PostOffsets) da[b + q] = src[k++];
            }
    }

    internal static void ScatterBool(in Operand dst, AdvancedLayout l, in Operand values, bool accumulate)
    {
        var d = (CpuStorage<bool>)dst.Storage;
        bool[] da = d.Array;
        var src = CpuBackend.Dense<bool>(values);
        long start = d.Start + l.Base;
        int k = 0;
        foreach (long pre in l.PreOffsets)
            foreach (long a in l.AdvOffsets)
            {
                long b = start + pre + a;
                foreach (long q in l.PostOffsets)
                {
                    da[b + q] = accumulate ? da[b + q] | src[k] : src[k];
                    k++;
                }
            }
    }
}
