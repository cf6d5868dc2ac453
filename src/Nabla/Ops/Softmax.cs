using System.Numerics;
using System.Numerics.Tensors;
using Nabla.Autograd;
using Nabla.Kernels.Cpu;

using Nabla.Backends.Cpu;

namespace Nabla.Ops;

/// <summary>
/// softmax / log_softmax: a fused, vectorised row kernel (max, subtract, exp, sum, scale in one pass per row)
/// on contiguous last-dim rows; any other dim is brought last first (Note [Row layout for reductions]).
/// </summary>
internal static class Softmax
{
    /// <summary>One parallel chunk of rows: y = exp(x - max) / sum, or x - max - log(sum(exp(x - max))).</summary>
    struct RowsBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
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

    static void RunRows<T>(Tensor rows, Tensor dst, int outer, int n, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (CpuStorage<T>)rows._storage;
        var d = (CpuStorage<T>)dst._storage;
        var body = new RowsBody<T> { Src = s.Array, SrcStart = s.Start + rows._offset, Dst = d.Array, DstStart = d.Start + dst._offset, N = n, Log = log };
        ParallelFor.For(outer, Math.Max(1, 16384 / Math.Max(1, n)), body);
    }

    // Note [Column softmax]
    // For x of shape (outer, n, inner) (contiguous) and softmax over n, every lane j of a block (o, :, j) is one
    // softmax. Walking the n rows of `inner` contiguous floats three times (max; exp(x - max) and its sum; scale, or
    // subtract the log of the sum) keeps every access unit-stride and vectorised, where bringing the dim last costs a
    // transposing copy each way. Each lane runs the same operations in the same order as the row kernel (max with
    // NaN propagation, a -inf max taken as 0, exp, sum in row order, divide), so results match it up to the order of
    // the sum. Work is split over (block, chunk of lanes).
    struct ColumnsBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
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

    static void RunColumns<T>(Tensor x, Tensor dst, int outer, int n, int inner, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = (CpuStorage<T>)x._storage;
        var d = (CpuStorage<T>)dst._storage;
        int chunk = Math.Min(inner, 512);
        // Few blocks (softmax over dim 0): narrower lane chunks, so that every thread gets one.
        int threads = ParallelFor.NumThreads;
        if ((long)outer * ((inner + chunk - 1) / chunk) < threads)
            chunk = Math.Max(16, ((inner + threads - 1) / threads + 15) / 16 * 16);
        int chunksPerBlock = (inner + chunk - 1) / chunk;
        var body = new ColumnsBody<T>
        {
            Src = s.Array, SrcStart = s.Start + x._offset, Dst = d.Array, DstStart = d.Start + dst._offset, N = n,
            Inner = inner, Chunk = chunk, ChunksPerBlock = chunksPerBlock, Log = log,
        };
        ParallelFor.For(outer * chunksPerBlock, Math.Max(1, 16384 / Math.Max(1, n * chunk)), body);
    }

    /// <summary>softmax or log_softmax along <paramref name="dim"/> (SoftmaxBackward0 / LogSoftmaxBackward0).</summary>
    public static Tensor Forward(Tensor x, long dim, ScalarType? dtype, bool log)
    {
        int rank = x._shape.Length;
        int d = ShapeUtil.WrapDim(dim, rank);
        var input = dtype is { } t ? x.to(t) : x;
        if (!input._dtype.IsFloatingPoint())
        {
            string kernel = (log ? "log_softmax" : "softmax") + (d == rank - 1 || rank == 0 ? "_lastdim_kernel_impl" : "_kernel_impl");
            throw new InvalidOperationException($"\"{kernel}\" not implemented for '{input._dtype.CppScalarName()}'");
        }
        Tensor result;
        long inner = 1;
        for (int i = d + 1; i < rank; i++) inner *= input._shape[i];
        if (inner >= 16 && input._numel > 0 && input.is_contiguous())
        {
            // Reduced dim not last, dense input: reduce across rows of `inner` contiguous lanes in place of
            // transposing the dim last and back (Note [Column softmax]).
            result = Tensor.Empty(input._dtype, input._shape);
            int n = (int)input._shape[d], outer = (int)(input._numel / (n * inner));
            if (input._dtype == ScalarType.Float32) RunColumns<float>(input, result, outer, n, (int)inner, log);
            else RunColumns<double>(input, result, outer, n, (int)inner, log);
        }
        else
        {
            var mask = RowLayout.SingleDim(d, rank);
            var rows = RowLayout.ToRows(input, mask, out int outer, out int n);
            var flat = Tensor.Empty(input._dtype, rows._shape);
            if (n > 0)
            {
                if (input._dtype == ScalarType.Float32) RunRows<float>(rows, flat, outer, n, log);
                else RunRows<double>(rows, flat, outer, n, log);
            }
            result = RowLayout.FromRows(flat, input._shape, mask);
        }
        if (Autograd.Autograd.ShouldRecord(input))
        {
            var node = new SoftmaxBackward(log, result, rank == 0 ? 0 : d);
            node.SetNextEdges(input);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }
}

/// <summary>
/// Backward of softmax: y * (g - sum(g * y)); of log_softmax: g - exp(y) * sum(g). Both from the saved output, so
/// differentiating again goes through the forward node.
/// </summary>
internal sealed class SoftmaxBackward : Node
{
    readonly bool _log;
    SavedTensor _result;
    readonly int _dim;

    public SoftmaxBackward(bool log, Tensor result, int dim)
    {
        _log = log; _result = new SavedTensor(result, isOutput: true); _dim = dim;
    }

    public override string name() => _log ? "LogSoftmaxBackward0" : "SoftmaxBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        var y = _result.Unpack(this);
        if (y._shape.Length == 0) return new[] { _log ? grad - y.exp() * grad : grad - grad * y };
        if (_log) return new[] { grad - y.exp() * grad.sum(_dim, keepdim: true) };
        return new[] { y * (grad - (grad * y).sum(_dim, keepdim: true)) };
    }

    protected internal override void ReleaseVariables() => _result.Release();
}
