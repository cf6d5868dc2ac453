using System.Numerics;
using System.Numerics.Tensors;
using Nabla.Kernels.Cpu;

namespace Nabla.Backends.Cpu;

// The softmax primitive of the CPU backend: a fused, vectorised row kernel (max, subtract, exp, sum, scale in one
// pass per row) on dense last-dim rows; a dense input reduced over another dim runs the column kernel (Note [Column
// softmax]); any other input is copied with the dim last (ReductionLayout.ToRows) and the rows result
// copied back into the input's dim order.
internal sealed partial class CpuBackend
{
    public override void Softmax(in Operand dst, in Operand x, int dim, bool log)
    {
        int rank = x.Rank;
        long inner = 1;
        for (int i = dim + 1; i < rank; i++) inner *= x.Shape[i];
        if (inner >= 16 && x.Numel > 0 && x.IsContiguous)
        {
            // Reduced dim not last, dense input: reduce across rows of `inner` contiguous lanes in place of
            // transposing the dim last and back (Note [Column softmax]).
            int cn = (int)x.Shape[dim], couter = (int)(x.Numel / (cn * inner));
            if (x.DType == ScalarType.Float32) SoftmaxColumns<float>(x, dst, couter, cn, (int)inner, log);
            else SoftmaxColumns<double>(x, dst, couter, cn, (int)inner, log);
            return;
        }
        // Rows: the dim moved last (permutation: the other dims in order, then dim) in a dense copy.
        bool identity = rank == 0 || dim == rank - 1;
        long n = rank == 0 ? 1 : x.Shape[dim], outer = 1;
        var perm = new int[rank];
        for (int i = 0, k = 0; i < rank; i++)
            if (i != dim) { perm[k++] = i; outer *= x.Shape[i]; }
        if (rank > 0) perm[rank - 1] = dim;
        var permShape = new long[rank];
        var permStrides = new long[rank];
        for (int i = 0; i < rank; i++) { permShape[i] = x.Shape[perm[i]]; permStrides[i] = x.Strides[perm[i]]; }
        var rows = ContiguousCopy(identity ? x : x.With(permShape, permStrides, x.Offset));
        var flat = identity ? dst : Empty(x.DType, permShape);
        if (n > 0)
        {
            if (x.DType == ScalarType.Float32) SoftmaxRows<float>(rows, flat, (int)outer, (int)n, log);
            else SoftmaxRows<double>(rows, flat, (int)outer, (int)n, log);
        }
        if (identity) return;
        // The rows result read in the input's dim order (the inverse permutation), copied into dst.
        var flatStrides = ShapeUtil.ContiguousStrides(permShape);
        var strides = new long[rank];
        for (int i = 0; i < rank; i++) strides[perm[i]] = flatStrides[i];
        Copy(dst, flat.With(x.Shape, strides, flat.Offset));
    }

    /// <summary>One parallel chunk of rows: y = exp(x - max) / sum, or x - max - log(sum(exp(x - max))).</summary>
    struct SoftmaxRowsBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T[] Src, Dst;
        public int SrcStart, DstStart, N;
        public bool Log;

        public void Invoke(int begin, int end)
        {
            T[]? scratch = Log ? System.Buffers.ArrayPool<T>.Shared.Rent(N) : null;
            for (int r = begin; r < end; r++)
            {
                var row = new ReadOnlySpan<T>(Src, SrcStart + r * N, N);
                var o = new Span<T>(Dst, DstStart + r * N, N);
                T m = TensorPrimitives.Max<T>(row);
                if (T.IsNegativeInfinity(m)) m = T.Zero; // a row of -inf: exp gives 0s, sum 0 -> NaN as PyTorch
                TensorPrimitives.Subtract<T>(row, m, o);
                if (Log)
                {
                    var e = new Span<T>(scratch, 0, N);
                    TensorPrimitives.Exp<T>(o, e);
                    T logSum = T.Log(TensorPrimitives.Sum<T>(e));
                    TensorPrimitives.Subtract<T>(o, logSum, o);
                }
                else
                {
                    TensorPrimitives.Exp<T>(o, o);
                    T sum = TensorPrimitives.Sum<T>(o);
                    TensorPrimitives.Divide<T>(o, sum, o);
                }
            }
            if (scratch is not null) System.Buffers.ArrayPool<T>.Shared.Return(scratch);
        }
    }

    static void SoftmaxRows<T>(in Operand rows, in Operand dst, int outer, int n, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (CpuStorage<T>)rows.Storage;
        var d = (CpuStorage<T>)dst.Storage;
        var body = new SoftmaxRowsBody<T> { Src = s.Array, SrcStart = s.Start + rows.Offset, Dst = d.Array, DstStart = d.Start + dst.Offset, N = n, Log = log };
        ParallelFor.For(outer, Math.Max(1, 16384 / Math.Max(1, n)), body);
    }

    // Note [Column softmax]
    // For x of shape (outer, n, inner) (contiguous) and softmax over n, every lane j of a block (o, :, j) is one
    // softmax. Walking the n rows of `inner` contiguous floats three times (max; exp(x - max) and its sum; scale, or
    // subtract the log of the sum) keeps every access unit-stride and vectorised, where bringing the dim last costs a
    // transposing copy each way. Each lane runs the same operations in the same order as the row kernel (max with
    // NaN propagation, a -inf max taken as 0, exp, sum in row order, divide), so results match it up to the order of
    // the sum. Work is split over (block, chunk of lanes).
    struct SoftmaxColumnsBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T[] Src, Dst;
        public int SrcStart, DstStart, N, Inner, Chunk, ChunksPerBlock;
        public bool Log;

        public void Invoke(int begin, int end)
        {
            T[] buf = System.Buffers.ArrayPool<T>.Shared.Rent(3 * Chunk);
            for (int u = begin; u < end; u++)
            {
                int block = u / ChunksPerBlock, j0 = u % ChunksPerBlock * Chunk, w = Math.Min(Chunk, Inner - j0);
                var m = new Span<T>(buf, 0, w);
                var sum = new Span<T>(buf, w, w);
                var tmp = new Span<T>(buf, 2 * w, w);
                long baseS = SrcStart + (long)block * N * Inner + j0, baseD = DstStart + (long)block * N * Inner + j0;
                new ReadOnlySpan<T>(Src, (int)baseS, w).CopyTo(m);
                for (int r = 1; r < N; r++) TensorPrimitives.Max<T>(m, new ReadOnlySpan<T>(Src, (int)(baseS + (long)r * Inner), w), m);
                for (int i = 0; i < w; i++)
                    if (T.IsNegativeInfinity(m[i])) m[i] = T.Zero;   // a lane of -inf: exp gives 0s, sum 0 -> NaN as PyTorch
                sum.Clear();
                for (int r = 0; r < N; r++)
                {
                    var x = new ReadOnlySpan<T>(Src, (int)(baseS + (long)r * Inner), w);
                    var y = new Span<T>(Dst, (int)(baseD + (long)r * Inner), w);
                    TensorPrimitives.Subtract<T>(x, m, y);
                    if (Log)
                    {
                        TensorPrimitives.Exp<T>(y, tmp);
                        TensorPrimitives.Add<T>(sum, tmp, sum);
                    }
                    else
                    {
                        TensorPrimitives.Exp<T>(y, y);
                        TensorPrimitives.Add<T>(sum, y, sum);
                    }
                }
                if (Log) TensorPrimitives.Log<T>(sum, sum);
                for (int r = 0; r < N; r++)
                {
                    var y = new Span<T>(Dst, (int)(baseD + (long)r * Inner), w);
                    if (Log) TensorPrimitives.Subtract<T>(y, sum, y);
                    else TensorPrimitives.Divide<T>(y, sum, y);
                }
            }
            System.Buffers.ArrayPool<T>.Shared.Return(buf);
        }
    }

    static void SoftmaxColumns<T>(in Operand x, in Operand dst, int outer, int n, int inner, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (CpuStorage<T>)x.Storage;
        var d = (CpuStorage<T>)dst.Storage;
        int chunk = Math.Min(inner, 512);
        // Few blocks (softmax over dim 0): narrower lane chunks, so that every thread gets one.
        int threads = ParallelFor.NumThreads;
        if ((long)outer * ((inner + chunk - 1) / chunk) < threads)
            chunk = Math.Max(16, ((inner + threads - 1) / threads + 15) / 16 * 16);
        int chunksPerBlock = (inner + chunk - 1) / chunk;
        var body = new SoftmaxColumnsBody<T>
        {
            Src = s.Array, SrcStart = s.Start + x.Offset, Dst = d.Array, DstStart = d.Start + dst.Offset, N = n,
            Inner = inner, Chunk = chunk, ChunksPerBlock = chunksPerBlock, Log = log,
        };
        ParallelFor.For(outer * chunksPerBlock, Math.Max(1, 16384 / Math.Max(1, n * chunk)), body);
    }
}
