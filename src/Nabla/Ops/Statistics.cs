using Nabla.Autograd;
using Nabla.Backends;

namespace Nabla.Ops;

/// <summary>prod, var, std, logsumexp, norm and cumsum (the data layout is the backend's, Note [Row layout for reductions]).</summary>
internal static class Statistics
{
    // The rules (Note [Derivative rules]); a reduction's args are its ReduceArgs(mask, keepdim).
    static readonly Rule ProdAllRule = Rule.Unary("ProdBackward0", Needs.Self | Needs.Result, ProdGrad);
    static readonly Rule ProdDimRule = Rule.Unary("ProdBackward1", Needs.Self | Needs.Result, ProdGrad);
    static readonly Rule VarRule = Rule.Unary("VarBackward0", Needs.Self, static (g, s) => VarStdGrad(g, s, std: false));
    static readonly Rule StdRule = Rule.Unary("StdBackward0", Needs.Self | Needs.Result, static (g, s) => VarStdGrad(g, s, std: true));
    static readonly Rule LogsumexpRule = Rule.Unary("LogsumexpBackward0", Needs.Self | Needs.Result,
        static (g, s) => Expand(g, s) * (s.Self - Expand(s.Result, s)).exp());
    static readonly Rule NormRule = Rule.Unary("NormBackward1", Needs.Self | Needs.Result, NormGrad);
    // cumsum: the reversed cumulative sum of the gradient along the dim (the rule's scalar).
    static readonly Rule CumsumRule = Rule.Unary("CumsumBackward0", Needs.None, static (g, s) =>
    {
        long dim = (long)s.Scalar.Value;
        if (s.SelfShape.Length == 0 || g._shape[dim] == 0) return g;
        return g.flip(dim).cumsum(dim).flip(dim);
    });

    /// <summary>A reduced tensor (gradient or result) with the reduced dims re-inserted, broadcastable to the input.</summary>
    static Tensor Expand(Tensor t, RuleNode s)
    {
        var a = (ReduceArgs)s.Args!;
        return Reductions.Unsqueeze(t, a.Mask, a.KeepDim);
    }

    /// <summary>
    /// Backward of prod (PyTorch's prod_backward): grad * result / x when the slice has no zero; with zeros, the
    /// product of the other elements (nonzero only at the single zero of a slice). Written with differentiable ops;
    /// Note [prod double backward]: for slices that contain a zero the second derivative is not exact (PyTorch goes
    /// through cumprod there); zero-free inputs differentiate exactly to any order.
    /// </summary>
    static Tensor ProdGrad(Tensor g, RuleNode s)
    {
        var x = s.Self;
        var mask = ((ReduceArgs)s.Args!).Mask;
        var grad = Expand(g, s);
        if (x._shape.Length == 0) return grad;
        var result = Expand(s.Result, s);
        var isZero = x == 0.0;
        var dims = Dims(mask);
        // Whether a slice holds a zero is data; on meta (no data) the general form below runs, as PyTorch's
        // prod_backward does for meta and tensor subclasses: same shapes and dtypes.
        bool anyZero = true;
        if (!x.is_meta)
            using (torch.no_grad()) anyZero = isZero.any().item<bool>();
        if (!anyZero) return grad * (result / x);
        var safe = x.masked_fill(isZero, 1.0);
        var othersProduct = dims.Length == 1 && mask.Length > 1 ? safe.prod(dims[0], keepdim: true) : safe.prod();
        var zeroCount = isZero.to(ScalarType.Int64).sum(dims, keepdim: true);
        var noZero = (zeroCount == 0L).expand(x._shape);
        var singleZeroHere = (zeroCount == 1L) & isZero;
        var atZero = torch.where(singleZeroHere, othersProduct.expand(x._shape), torch.zeros_like(x));
        return grad * torch.where(noZero, result / safe, atZero);
    }

    /// <summary>Backward of var/std: (2 / (N - correction)) * grad * (x - mean), divided by 2 * std for std (divisor: the scalar).</summary>
    static Tensor VarStdGrad(Tensor g, RuleNode s, bool std)
    {
        var x = s.Self;
        var grad = Expand(g, s);
        if (std)
        {
            var result = Expand(s.Result, s);
            grad = (grad / (result * 2)).masked_fill(result == 0.0, 0.0);
        }
        var dims = Dims(((ReduceArgs)s.Args!).Mask);
        var centered = dims.Length == 0 ? x - x : x - x.mean(dims, keepdim: true);
        return grad * (2.0 / s.Scalar.Value) * centered;
    }

    /// <summary>Backward of the p-norm (PyTorch's norm_backward; p: the scalar), 0 wherever the norm is 0.</summary>
    static Tensor NormGrad(Tensor g, RuleNode s)
    {
        double p = s.Scalar.Value;
        var x = s.Self;
        var grad = Expand(g, s);
        var norm = Expand(s.Result, s);
        if (p == 0) return torch.zeros_like(x);
        if (p == 1) return x.sign() * grad;
        if (p == 2) return (x * (grad / norm)).masked_fill(norm == 0.0, 0.0);
        if (double.IsInfinity(p))
        {
            var normNoGrad = norm.detach();
            var hits = (x.abs() == normNoGrad).to(x._dtype);
            var dims = Dims(((ReduceArgs)s.Args!).Mask);
            var count = dims.Length == 0 ? hits : hits.sum(dims, keepdim: true);
            return x.sign() * hits * (grad / count);
        }
        // d/dx (sum |x|^p)^(1/p) = sign(x) |x|^(p-1) / norm^(p-1)
        var term = x.sign() * x.abs().pow(p - 1);
        if (p < 1) term = term.masked_fill(x == 0.0, 0.0);
        return (term * (grad / norm.pow(p - 1))).masked_fill(norm == 0.0, 0.0);
    }

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
        if (!outType.IsFloatingPoint()) return result;
        return (dim is null ? ProdAllRule : ProdDimRule).Record(result, x, args: new ReduceArgs(mask, dim is not null && keepdim));
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
        return (std ? StdRule : VarRule).Record(result, x, divisor, args: new ReduceArgs(mask, keepdim));
    }

    // ---- logsumexp --------------------------------------------------------------------------------------------

    /// <summary>log(sum(exp(x))) over dims, computed stably (LogsumexpBackward0); integers compute in float32.</summary>
    public static Tensor LogSumExp(Tensor x, long[] dims, bool keepdim)
    {
        var src = x._dtype.IsFloatingPoint() ? x : Raw.ToDType(x, ScalarType.Float32);
        var mask = Reductions.DimMask(dims, x._shape.Length);
        var result = Tensor.EmptyLike(src, src._dtype, RowLayout.ReducedShape(x._shape, mask, keepdim));
        src.Backend.ReduceDims(ReduceOp.LogSumExp, result.Raw, src.Raw, mask, 0);
        return LogsumexpRule.Record(result, x, args: new ReduceArgs(mask, keepdim));
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
        return NormRule.Record(result, x, p, args: new ReduceArgs(mask, keepdim));
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
        if (!outType.IsFloatingPoint()) return result;
        return CumsumRule.Record(result, x, d);
    }

    internal static long[] Dims(bool[] mask) => MaskedDims(mask);
}
