using Nabla.Autograd;

namespace Nabla.Ops;

/// <summary>
/// softmax / log_softmax: dtype and dim checks, autograd, and the Softmax primitive (Note [The backend wall]; the CPU
/// backend's row and column kernels, Note [Column softmax]).
/// </summary>
internal static class Softmax
{
    // softmax: y * (g - sum(g * y)); log_softmax: g - exp(y) * sum(g); both from the saved output (dim: the scalar),
    // so differentiating again goes through the forward node.
    static readonly Rule SoftmaxRule = Rule.Unary("SoftmaxBackward0", Needs.Result, static (g, s) =>
    {
        var y = s.Result;
        if (y._shape.Length == 0) return g - g * y;
        return y * (g - (g * y).sum((long)s.Scalar.Value, keepdim: true));
    });
    static readonly Rule LogSoftmaxRule = Rule.Unary("LogSoftmaxBackward0", Needs.Result, static (g, s) =>
    {
        var y = s.Result;
        if (y._shape.Length == 0) return g - y.exp() * g;
        return g - y.exp() * g.sum((long)s.Scalar.Value, keepdim: true);
    });

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
        var result = Tensor.EmptyLike(input, input._dtype, input._shape);
        input.Backend.Softmax(result.Raw, input.Raw, rank == 0 ? 0 : d, log);
        return (log ? LogSoftmaxRule : SoftmaxRule).Record(result, input, rank == 0 ? 0 : d);
    }
}
