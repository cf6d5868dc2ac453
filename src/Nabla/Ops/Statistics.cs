using Nabla.Autograd;
using Nabla.Backends;

namespace Nabla.Ops;

/// <summary>prod, var, std, logsumexp, norm and cumsum (the data layout is the backend's, Note [Row layout for reductions]).</summary>
internal static class Statistics
{
    static long[] MaskedDims(bool[] mask)
    {
        var dims = new List<long>();
        for (int i = 0; i < mask.Length; i++) if (mask[i]) dims.Add(i);
        return dims.ToArray();
    }

    // ---- prod -------------------------------------------------------------------------------------------------

    /// <summary>Product over all elements (ProdBackward0) or over one dim (ProdBackward1); integers give int64.</summary>
    public static Tensor Prod(Tensor x, long? dim, bool keepdim, ScalarType? dtype)
    {
        var outType = dtype ?? (x._dtype.IsFloatingPoint() ? x._dtype : ScalarType.Int64);
        var src = Raw.Cast(x, outType);
        int rank = x._shape.Length;
        var mask = dim is { } d ? RowLayout.SingleDim(ShapeUtil.WrapDim(d, rank), rank) : Reductions.DimMask(null, rank);
        if (outType is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Int64))
            throw new NotSupportedException($"prod is not implemented for {outType.CppScalarName()}");
        var result = Tensor.EmptyLike(src, outType, RowLayout.ReducedShape(x._shape, mask, dim is not null && keepdim));
        src.Backend.ReduceDims(ReduceOp.Prod, result.Raw, src.Raw, mask, 0);
        if (History.ShouldRecord(x) && outType.IsFloatingPoint())
        {
            var node = new ProdBackward(dim is null ? "ProdBackward0" : "ProdBackward1", x, result, mask, dim is not null && keepdim);
            node.SetNextEdges(x);
            History.Set(result, node);
        }
        return result;
    }

    // ---- var / std ------------------------------------------------------------------------------------------

    /// <summary>Variance or standard deviation over dims (all when null) with the given correction (VarBackward0/StdBackward0).</summary>
    public static Tensor VarStd(Tensor x, long[]? dims, long correction, bool keepdim, bool std)
    {
        if (!x._dtype.IsFloatingPoint()) throw new InvalidOperationException("std and var only support floating point and complex dtypes");
        var mask = Reductions.DimMask(dims, x._shape.Length);
        long count = 1;
        for (int i = 0; i < mask.Length; i++) if (mask[i]) count *= x._shape[i];
        double divisor = Math.Max(0, (int)count - correction);
        var result = Tensor.EmptyLike(x, x._dtype, RowLayout.ReducedShape(x._shape, mask, keepdim));
        x.Backend.ReduceDims(std ? ReduceOp.Std : ReduceOp.Var, result.Raw, x.Raw, mask, divisor);
        if (History.ShouldRecord(x))
        {
            var node = new VarStdBackward(std, x, result, mask, keepdim, divisor);
            node.SetNextEdges(x);
            History.Set(result, node);
        }
        return result;
    }

    // ---- logsumexp --------------------------------------------------------------------------------------------

    /// <summary>log(sum(exp(x))) over dims, computed stably (LogsumexpBackward0); integers compute in float32.</summary>
    public static Tensor LogSumExp(Tensor x, long[] dims, bool keepdim)
    {
        var src = x._dtype.IsFloatingPoint() ? x : Raw.ToDType(x, ScalarType.Float32);
        var mask = Reductions.DimMask(dims, x._shape.Length);
        var result = Tensor.EmptyLike(src, src._dtype, RowLayout.ReducedShape(x._shape, mask, keepdim));
        src.Backend.ReduceDims(ReduceOp.LogSumExp, result.Raw, src.Raw, mask, 0);
        if (History.ShouldRecord(x))
        {
            var node = new LogsumexpBackward0(x, result, mask, keepdim);
            node.SetNextEdges(x);
            History.Set(result, node);
        }
        return result;
    }

    // ---- norm -----------------------------------------------------------------------------------------------

    /// <summary>The p-norm over dims (all when null); NormBackward1, gradient 0 where the norm is 0.</summary>
    public static Tensor Norm(Tensor x, double p, long[]? dims, bool keepdim)
    {
        if (!x._dtype.IsFloatingPoint())
            throw new InvalidOperationException($"norm(): input dtype should be either floating point or complex. Got {x._dtype.CppScalarName()} instead.");
        var mask = Reductions.DimMask(dims, x._shape.Length);
        var result = Tensor.EmptyLike(x, x._dtype, RowLayout.ReducedShape(x._shape, mask, keepdim));
        x.Backend.ReduceDims(ReduceOp.Norm, result.Raw, x.Raw, mask, p);
        if (History.ShouldRecord(x))
        {
            var node = new NormBackward1(x, result, p, mask, keepdim);
            node.SetNextEdges(x);
            History.Set(result, node);
        }
        return result;
    }

    // ---- cumsum --------------------------------------------------------------------------------------------

    /// <summary>Running sum along <paramref name="dim"/> (CumsumBackward0); integers and bool accumulate in int64.</summary>
    public static Tensor Cumsum(Tensor x, long dim, ScalarType? dtype)
    {
        var outType = dtype ?? (x._dtype.IsFloatingPoint() ? x._dtype : ScalarType.Int64);
        int rank = x._shape.Length;
        int d = ShapeUtil.WrapDim(dim, rank);
        if (outType is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Int64 or ScalarType.Int32))
            throw new NotSupportedException($"cumsum is not implemented for {outType.CppScalarName()}");
        var src = Raw.Cast(x, outType);
        var result = Tensor.EmptyLike(src, outType, x._shape);
        src.Backend.Cumsum(result.Raw, src.Raw, d);
        if (History.ShouldRecord(x) && outType.IsFloatingPoint())
        {
            var node = new CumsumBackward0(x, d);
            node.SetNextEdges(x);
            History.Set(result, node);
        }
        return result;
    }

    internal static long[] Dims(bool[] mask) => MaskedDims(mask);
}

/// <summary>
/// Backward of prod (PyTorch's prod_backward): grad * result / x when the slice has no zero; with zeros, the
/// product of the other elements (nonzero only at the single zero of a slice). Written with differentiable ops;
/// Note [prod double backward]: for slices that contain a zero the second derivative is not exact (PyTorch goes
/// through cumprod there); zero-free inputs differentiate exactly to any order.
/// </summary>
internal sealed class ProdBackward : Node
{
    readonly string _name;
    SavedTensor _self, _result;
    readonly bool[] _mask;
    readonly bool _keepdim;

    public ProdBackward(string name, Tensor self, Tensor result, bool[] mask, bool keepdim)
    {
        _name = name; _self = new SavedTensor(self); _result = new SavedTensor(result, isOutput: true); _mask = mask; _keepdim = keepdim;
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var x = _self.Unpack(this);
        var grad = Reductions.Unsqueeze(g[0]!, _mask, _keepdim);
        if (x._shape.Length == 0) return new[] { grad };
        var result = Reductions.Unsqueeze(_result.Unpack(this), _mask, _keepdim);
        var isZero = x == 0.0;
        var dims = Statistics.Dims(_mask);
        // Whether a slice holds a zero is data; on meta (no data) the general form below runs, as PyTorch's
        // prod_backward does for meta and tensor subclasses: same shapes and dtypes.
        bool anyZero = true;
        if (!x.is_meta)
            using (torch.no_grad()) anyZero = isZero.any().item<bool>();
        if (!anyZero) return new[] { grad * (result / x) };
        var safe = x.masked_fill(isZero, 1.0);
        var othersProduct = dims.Length == 1 && _mask.Length > 1 ? safe.prod(dims[0], keepdim: true) : safe.prod();
        var zeroCount = isZero.to(ScalarType.Int64).sum(dims, keepdim: true);
        var noZero = (zeroCount == 0L).expand(x._shape);
        var singleZeroHere = (zeroCount == 1L) & isZero;
        var atZero = torch.where(singleZeroHere, othersProduct.expand(x._shape), torch.zeros_like(x));
        return new[] { grad * torch.where(noZero, result / safe, atZero) };
    }

    protected internal override void ReleaseVariables()
    {
        _self.Release(); _result.Release();
    }
}

/// <summary>Backward of var/std: (2 / (N - correction)) * grad * (x - mean), divided by 2 * std for std.</summary>
internal sealed class VarStdBackward : Node
{
    readonly bool _std;
    SavedTensor _self, _result;
    readonly bool[] _mask;
    readonly bool _keepdim;
    readonly double _divisor;

    public VarStdBackward(bool std, Tensor self, Tensor result, bool[] mask, bool keepdim, double divisor)
    {
        _std = std; _self = new SavedTensor(self); _mask = mask; _keepdim = keepdim; _divisor = divisor;
        if (std) _result = new SavedTensor(result, isOutput: true);
    }

    public override string name() => _std ? "StdBackward0" : "VarBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var x = _self.Unpack(this);
        var grad = Reductions.Unsqueeze(g[0]!, _mask, _keepdim);
        if (_std)
        {
            var result = Reductions.Unsqueeze(_result.Unpack(this), _mask, _keepdim);
            grad = (grad / (result * 2)).masked_fill(result == 0.0, 0.0);
        }
        var dims = Statistics.Dims(_mask);
        var centered = dims.Length == 0 ? x - x : x - x.mean(dims, keepdim: true);
        return new[] { grad * (2.0 / _divisor) * centered };
    }

    protected internal override void ReleaseVariables()
    {
        _self.Release(); _result.Release();
    }
}

/// <summary>Backward of logsumexp: grad * exp(x - result).</summary>
internal sealed class LogsumexpBackward0 : Node
{
    SavedTensor _self, _result;
    readonly bool[] _mask;
    readonly bool _keepdim;
    readonly ScalarType _selfType;

    public LogsumexpBackward0(Tensor self, Tensor result, bool[] mask, bool keepdim)
    {
        _self = new SavedTensor(self); _result = new SavedTensor(result, isOutput: true); _mask = mask; _keepdim = keepdim; _selfType = self._dtype;
    }

    public override string name() => "LogsumexpBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = Reductions.Unsqueeze(g[0]!, _mask, _keepdim);
        var result = Reductions.Unsqueeze(_result.Unpack(this), _mask, _keepdim);
        return new[] { Reduce.CastGrad(grad * (_self.Unpack(this) - result).exp(), _selfType) };
    }

    protected internal override void ReleaseVariables()
    {
        _self.Release(); _result.Release();
    }
}

/// <summary>Backward of the p-norm (PyTorch's norm_backward), 0 wherever the norm is 0.</summary>
internal sealed class NormBackward1 : Node
{
    SavedTensor _self, _result;
    readonly double _p;
    readonly bool[] _mask;
    readonly bool _keepdim;

    public NormBackward1(Tensor self, Tensor result, double p, bool[] mask, bool keepdim)
    {
        _self = new SavedTensor(self); _result = new SavedTensor(result, isOutput: true); _p = p; _mask = mask; _keepdim = keepdim;
    }

    public override string name() => "NormBackward1";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var x = _self.Unpack(this);
        var grad = Reductions.Unsqueeze(g[0]!, _mask, _keepdim);
        var norm = Reductions.Unsqueeze(_result.Unpack(this), _mask, _keepdim);
        Tensor scaled;
        if (_p == 0) return new[] { torch.zeros_like(x) };
        if (_p == 1) scaled = x.sign() * grad;
        else if (_p == 2) scaled = (x * (grad / norm)).masked_fill(norm == 0.0, 0.0);
        else if (double.IsInfinity(_p))
        {
            var normNoGrad = norm.detach();
            var hits = (x.abs() == normNoGrad).to(x._dtype);
            var dims = Statistics.Dims(_mask);
            var count = dims.Length == 0 ? hits : hits.sum(dims, keepdim: true);
            scaled = x.sign() * hits * (grad / count);
        }
        else
        {
            // d/dx (sum |x|^p)^(1/p) = sign(x) |x|^(p-1) / norm^(p-1)
            var term = x.sign() * x.abs().pow(_p - 1);
            if (_p < 1) term = term.masked_fill(x == 0.0, 0.0);
            scaled = (term * (grad / norm.pow(_p - 1))).masked_fill(norm == 0.0, 0.0);
        }
        return new[] { scaled };
    }

    protected internal override void ReleaseVariables()
    {
        _self.Release(); _result.Release();
    }
}

/// <summary>Backward of cumsum: the reversed cumulative sum of the gradient.</summary>
internal sealed class CumsumBackward0 : Node
{
    readonly int _dim;
    readonly long[] _selfShape;
    readonly ScalarType _selfType;

    public CumsumBackward0(Tensor self, int dim) { _dim = dim; _selfShape = self._shape; _selfType = self._dtype; }

    public override string name() => "CumsumBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        if (_selfShape.Length == 0 || grad._shape[_dim] == 0) return new[] { Reduce.CastGrad(grad, _selfType) };
        return new[] { Reduce.CastGrad(grad.flip(_dim).cumsum(_dim).flip(_dim), _selfType) };
    }
}
