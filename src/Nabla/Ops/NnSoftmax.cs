using System.Numerics;
using Nabla.Autograd;

namespace Nabla.Ops;

// Note [Softmax for torch.nn]
// softmax/log_softmax as torch.nn.functional needs them: a numerically stable raw kernel (subtract the max along
// the dim) and backward rules written with differentiable ops. Branch `ops` adds Tensor.softmax/log_softmax; when
// both are merged, functional may forward to those and this file can go (node names are identical).

internal static class NnSoftmax
{
    public static Tensor LogSoftmax(Tensor x, long dim, ScalarType? dtype = null) => Run(x, dim, dtype, log: true);

    public static Tensor Softmax(Tensor x, long dim, ScalarType? dtype = null) => Run(x, dim, dtype, log: false);

    static Tensor Run(Tensor x, long dim, ScalarType? dtype, bool log)
    {
        if (dtype is { } d) x = x.to(d);
        if (!x._dtype.IsFloatingPoint())
            throw new InvalidOperationException($"\"{(log ? "log_softmax" : "softmax")}_lastdim_kernel_impl\" not implemented for '{x._dtype.CppScalarName()}'");
        int rank = x._shape.Length;
        int w = ShapeUtil.WrapDim(dim, Math.Max(rank, 1));
        var src = x.ContiguousRaw();
        var result = Tensor.Empty(x._dtype, x._shape);
        long outer = 1, size = rank == 0 ? 1 : x._shape[w], inner = 1;
        for (int i = 0; i < w && i < rank; i++) outer *= x._shape[i];
        for (int i = w + 1; i < rank; i++) inner *= x._shape[i];
        if (x._dtype == ScalarType.Float32) Kernel(src.Contiguous<float>(), result.Contiguous<float>(), (int)outer, (int)size, (int)inner, log);
        else Kernel(src.Contiguous<double>(), result.Contiguous<double>(), (int)outer, (int)size, (int)inner, log);
        if (Autograd.Autograd.ShouldRecord(x))
        {
            var node = new NnSoftmaxBackward(result, w, log);
            node.SetNextEdges(x);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    // y = x - max - log(sum(exp(x - max)))  (log_softmax);  y = exp(x - max) / sum(exp(x - max))  (softmax)
    static void Kernel<T>(ReadOnlySpan<T> x, Span<T> y, int outer, int size, int inner, bool log)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int baseIndex = o * size * inner + i;
                T max = T.NegativeInfinity;
                for (int k = 0; k < size; k++)
                {
                    T v = x[baseIndex + k * inner];
                    if (v > max || T.IsNaN(v)) max = v;
                }
                if (T.IsInfinity(max)) max = T.IsNegative(max) ? T.Zero : max;
                T sum = T.Zero;
                for (int k = 0; k < size; k++) sum += T.Exp(x[baseIndex + k * inner] - max);
                if (log)
                {
                    T logSum = T.Log(sum);
                    for (int k = 0; k < size; k++) y[baseIndex + k * inner] = x[baseIndex + k * inner] - max - logSum;
                }
                else
                {
                    for (int k = 0; k < size; k++) y[baseIndex + k * inner] = T.Exp(x[baseIndex + k * inner] - max) / sum;
                }
            }
        }
    }
}

/// <summary>
/// Backward of softmax (SoftmaxBackward0: y * (g - sum(g * y))) and log_softmax
/// (LogSoftmaxBackward0: g - exp(y) * sum(g)), both over the saved output.
/// </summary>
internal sealed class NnSoftmaxBackward : Node
{
    SavedTensor _result;
    readonly long _dim;
    readonly bool _log;
    public NnSoftmaxBackward(Tensor result, long dim, bool log) { _result = new SavedTensor(result, isOutput: true); _dim = dim; _log = log; }
    public override string name() => _log ? "LogSoftmaxBackward0" : "SoftmaxBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        var y = _result.Unpack(this);
        bool scalar = y._shape.Length == 0;
        if (_log)
            return new Tensor?[] { scalar ? grad - y.exp() * grad : grad - y.exp() * grad.sum(_dim, keepdim: true) };
        var gy = grad * y;
        return new Tensor?[] { scalar ? gy - y * gy : gy - y * gy.sum(_dim, keepdim: true) };
    }
    protected internal override void ReleaseVariables() => _result.Release();
}
