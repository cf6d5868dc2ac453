using System.Numerics;

using Nabla.Backends.Cpu;

namespace Nabla.Ops;

// Note [Advanced indexing layout]
// x[i0, :, i2] with index tensors broadcast to shape B reads, for every position p of B and every position of the
// dims that are not indexed, the element at  base + sum_k i_k[p] * stride_k + (offset of the other dims).
// PyTorch puts the B dims where the indexed dims were when those are adjacent, and first otherwise; the dims that
// are not indexed keep their order. The output is then  pre + B + post  (pre empty in the non-adjacent case), and
// the source offset of output element (a, p, c) is  base + pre[a] + adv[p] + post[c]: three offset tables computed
// once, so the gather / scatter loops do no index arithmetic.

/// <summary>The offset tables of Note [Advanced indexing layout] for one tensor geometry and one set of index tensors.</summary>
internal sealed class AdvancedLayout
{
    public long[] OutShape = System.Array.Empty<long>();
    public long[] PreOffsets = System.Array.Empty<long>();
    public long[] AdvOffsets = System.Array.Empty<long>();
    public long[] PostOffsets = System.Array.Empty<long>();
    public long Base;
    public bool PostContiguous;

    /// <summary>
    /// Builds the tables for indexing <paramref name="t"/> (its shape, strides and offset) with
    /// <paramref name="indices"/> (one int64 tensor or null per dim of t), checking broadcast and bounds as PyTorch does.
    /// </summary>
    public static AdvancedLayout Create(Tensor t, Tensor?[] indices)
    {
        int rank = t._shape.Length;
        var broadcast = System.Array.Empty<long>();
        int first = -1, last = -1;
        for (int d = 0; d < indices.Length; d++)
        {
            var idx = indices[d];
            if (idx is null) continue;
            if (first < 0) first = d;
            last = d;
            try { broadcast = ShapeUtil.Broadcast(broadcast, idx._shape); }
            catch (ArgumentException) { throw BroadcastError(indices); }
        }
        bool adjacent = true;
        for (int d = first; d <= last; d++) if (indices[d] is null) adjacent = false;

        var layout = new AdvancedLayout { Base = t._offset };
        int nb = ShapeUtil.Numel(broadcast);
        var adv = new long[nb];
        int ordinal = 0;
        for (int d = 0; d < indices.Length; d++)
        {
            if (indices[d] is not { } idx) continue;
            var full = Tensor.Empty(ScalarType.Int64, broadcast);
            Raw.CopyInto(full, idx);
            var values = full.Contiguous<long>();
            long size = t._shape[d], stride = t._strides[d];
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
            if (d < indices.Length && indices[d] is not null) continue;
            if (adjacent && d < first) preDims.Add(d); else postDims.Add(d);
        }
        var outShape = new List<long>();
        foreach (int d in preDims) outShape.Add(t._shape[d]);
        outShape.AddRange(broadcast);
        foreach (int d in postDims) outShape.Add(t._shape[d]);
        layout.OutShape = outShape.ToArray();
        layout.PreOffsets = Offsets(t, preDims);
        layout.PostOffsets = Offsets(t, postDims);
        layout.PostContiguous = true;
        for (int i = 0; i < layout.PostOffsets.Length; i++)
            if (layout.PostOffsets[i] != i) { layout.PostContiguous = false; break; }
        return layout;
    }

    static IndexOutOfRangeException BroadcastError(Tensor?[] indices)
    {
        var shapes = new List<string>();
        foreach (var idx in indices) if (idx is not null) shapes.Add(ShapeUtil.Format(idx._shape));
        return new IndexOutOfRangeException(
            "shape mismatch: indexing tensors could not be broadcast together with shapes " + string.Join(", ", shapes));
    }

    /// <summary>Row-major table of storage offsets over the given dims of t (relative to t's offset).</summary>
    static long[] Offsets(Tensor t, List<int> dims)
    {
        long count = 1;
        foreach (int d in dims) count *= t._shape[d];
        var result = new long[count];
        if (count == 0) return result;
        long span = 1;
        for (int k = dims.Count - 1; k >= 0; k--)
        {
            long size = t._shape[dims[k]], stride = t._strides[dims[k]];
            // result[i] for i in [0, span*size): block j of length span gets +j*stride.
            for (long j = size - 1; j >= 0; j--)
                for (long i = 0; i < span; i++)
                    result[j * span + i] = result[i] + j * stride;
            span *= size;
        }
        return result;
    }
}

/// <summary>Raw (untracked) kernels of advanced indexing: gather, scatter (assign or accumulate), nonzero.</summary>
internal static class IndexingKernels
{
    /// <summary>A new contiguous tensor with src's elements at the layout's positions.</summary>
    public static Tensor Gather(Tensor src, AdvancedLayout layout)
    {
        var result = Tensor.Empty(src._dtype, layout.OutShape);
        if (result._numel == 0) return result;
        switch (src._dtype)
        {
            case ScalarType.Float32: GatherT<float>(src, result, layout); break;
            case ScalarType.Float64: GatherT<double>(src, result, layout); break;
            case ScalarType.Int64: GatherT<long>(src, result, layout); break;
            case ScalarType.Int32: GatherT<int>(src, result, layout); break;
            case ScalarType.Bool: GatherT<bool>(src, result, layout); break;
        }
        return result;
    }

    static void GatherT<T>(Tensor src, Tensor dst, AdvancedLayout l) where T : unmanaged
    {
        var s = (CpuStorage<T>)src._storage;
        var d = (CpuStorage<T>)dst._storage;
        T[] sa = s.Array, da = d.Array;
        long start = s.Start + l.Base;
        int k = d.Start + dst._offset;
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

    /// <summary>
    /// Writes <paramref name="values"/> (already of the layout's output shape and dst's dtype, any strides) into dst at
    /// the layout's positions; with <paramref name="accumulate"/> repeated positions add up.
    /// </summary>
    public static void Scatter(Tensor dst, AdvancedLayout layout, Tensor values, bool accumulate)
    {
        if (values._numel == 0) return;
        var v = values.ContiguousRaw();
        switch (dst._dtype)
        {
            case ScalarType.Float32: ScatterT<float>(dst, layout, v, accumulate); break;
            case ScalarType.Float64: ScatterT<double>(dst, layout, v, accumulate); break;
            case ScalarType.Int64: ScatterT<long>(dst, layout, v, accumulate); break;
            case ScalarType.Int32: ScatterT<int>(dst, layout, v, accumulate); break;
            case ScalarType.Bool: ScatterBool(dst, layout, v, accumulate); break;
        }
    }

    static void ScatterT<T>(Tensor dst, AdvancedLayout l, Tensor values, bool accumulate) where T : unmanaged, INumber<T>
    {
        var d = (CpuStorage<T>)dst._storage;
        T[] da = d.Array;
        var src = values.Contiguous<T>();
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

    static void ScatterBool(Tensor dst, AdvancedLayout l, Tensor values, bool accumulate)
    {
        var d = (CpuStorage<bool>)dst._storage;
        bool[] da = d.Array;
        var src = values.Contiguous<bool>();
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

    /// <summary>The positions of the true elements of a bool mask: one int64 tensor of length nnz per mask dim.</summary>
    public static Tensor[] NonzeroPerDim(Tensor mask)
    {
        var m = mask.ContiguousRaw().Contiguous<bool>();
        int rank = mask._shape.Length;
        int count = 0;
        foreach (bool b in m) if (b) count++;
        var result = new Tensor[rank];
        for (int d = 0; d < rank; d++) result[d] = Tensor.Empty(ScalarType.Int64, new long[] { count });
        var position = new long[rank];
        int k = 0;
        for (int i = 0; i < m.Length; i++)
        {
            if (m[i])
            {
                for (int d = 0; d < rank; d++) result[d].Contiguous<long>()[k] = position[d];
                k++;
            }
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++position[d] < mask._shape[d]) break;
                position[d] = 0;
            }
        }
        return result;
    }
}
