using System.Numerics;
using System.Numerics.Tensors;
using Nabla.Autograd;
using Nabla.Kernels.Cpu;

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
        var s = (Storage<T>)rows._storage;
        var d = (Storage<T>)dst._storage;
        var body = new RowsBody<T> { Src = s.Array, SrcStart = s.Start + rows._offset, Dst = d.Array, DstStart = d.Start + dst._offset, N = n, Log = log };
        ParallelFor.For(outer, Math.Max(1, 16384 / Math.Max(1, n)), body);
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
        var mask = RowLayout.SingleDim(d, rank);
        var rows = RowLayout.ToRows(input, mask, out int outer, out int n);
        var flat = Tensor.Empty(input._dtype, rows._shape);
        if (n > 0)
        {
            if (input._dtype == ScalarType.Float32) RunRows<float>(rows, flat, outer, n, log);
            else RunRows<double>(rows, flat, outer, n, log);
        }
        var result = RowLayout.FromRows(flat, input._shape, mask);
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
