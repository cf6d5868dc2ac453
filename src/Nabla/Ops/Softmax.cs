using Nabla.Autograd;

namespace Nabla.Ops;

/// <summary>
/// softmax / log_softmax: dtype and dim checks, autograd, and the Softmax primitive (Note [The backend wall]; the CPU
/// backend's row and column kernels, Note [Column softmax]).
/// </summary>
internal static class Softmax
{
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
        if (History.ShouldRecord(input))
        {
            var node = new SoftmaxBackward(log, result, rank == 0 ? 0 : d);
            node.SetNextEdges(input);
            History.Set(result, node);
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
