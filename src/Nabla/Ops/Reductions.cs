using Nabla.Autograd;
using Nabla.Backends;

namespace Nabla.Ops;

internal static class Reductions
{
    // sum and mean: the (scaled, s.Scalar) gradient expanded back to the input's shape.
    static readonly Rule SumAllRule = Rule.Unary("SumBackward0", Needs.None, ExpandBack);
    static readonly Rule SumDimRule = Rule.Unary("SumBackward1", Needs.None, ExpandBack);
    static readonly Rule MeanAllRule = Rule.Unary("MeanBackward0", Needs.None, ExpandBack);
    static readonly Rule MeanDimRule = Rule.Unary("MeanBackward1", Needs.None, ExpandBack);

    static Tensor ExpandBack(Tensor g, RuleNode s)
    {
        // Expand first, then scale: over an empty dim the scale is inf and must meet no elements (as PyTorch).
        var a = (ReduceArgs)s.Args!;
        var grad = Unsqueeze(g, a.Mask, a.KeepDim).expand(s.SelfShape);
        return s.Scalar.Value == 1.0 ? grad : grad.mul(s.Scalar);
    }

    /// <summary>Wraps and sorts reduction dims; an empty list means all dims.</summary>
    public static bool[] DimMask(long[]? dims, int rank)
    {
        var mask = new bool[rank];
        if (dims is null || dims.Length == 0)
        {
            Array.Fill(mask, true);
            return mask;
        }
        foreach (var d in dims)
        {
            int w = ShapeUtil.WrapDim(d, rank);
            if (rank == 0) continue;
            if (mask[w]) throw new ArgumentException($"dim {w} appears multiple times in the list of dims");
            mask[w] = true;
        }
        return mask;
    }

    static long[] ReducedShape(long[] shape, bool[] mask, bool keepdim)
    {
        var result = new List<long>();
        for (int i = 0; i < shape.Length; i++)
        {
            if (!mask[i]) result.Add(shape[i]);
            else if (keepdim) result.Add(1);
        }
        return result.ToArray();
    }

    /// <summary>Raw sum over the masked dims (no autograd), in <paramref name="dtype"/>.</summary>
    public static Tensor SumRaw(Tensor x, bool[] mask, bool keepdim, ScalarType dtype)
    {
        var outShape = ReducedShape(x._shape, mask, keepdim);
        if (dtype == ScalarType.Float32 && Array.IndexOf(mask, false) < 0 && x.Backend.TrySumDeferred(x.Raw, out float fused))
        {
            // A deferred elementwise result summed without writing it (Note [Lazy fusion]).
            var r = Tensor.EmptyLike(x, dtype, outShape);
            r.Backend.WriteElement(r.Raw, 0, fused);
            return r;
        }
        if (dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Int64))
            throw new NotSupportedException($"sum is not implemented for {dtype}");
        if (x._dtype != dtype) x = Raw.ToDType(x, dtype);
        var result = Tensor.EmptyLike(x, dtype, outShape);
        x.Backend.ReduceDims(ReduceOp.Sum, result.Raw, x.Raw, mask, 0);
        return result;
    }

    static ScalarType SumType(ScalarType t, ScalarType? dtype) => dtype ?? (t.IsFloatingPoint() ? t : ScalarType.Int64);

    public static Tensor Sum(Tensor x, long[]? dims, bool keepdim, ScalarType? dtype)
    {
        bool all = dims is null;
        var mask = DimMask(dims, x._shape.Length);
        var result = SumRaw(x, mask, keepdim, SumType(x._dtype, dtype));
        if (!result._dtype.IsFloatingPoint()) return result;
        return (all ? SumAllRule : SumDimRule).Record(result, x, 1.0, args: new ReduceArgs(mask, keepdim));
    }

    public static Tensor Mean(Tensor x, long[]? dims, bool keepdim, ScalarType? dtype)
    {
        var outType = dtype ?? x._dtype;
        if (!outType.IsFloatingPoint())
            throw new InvalidOperationException(
                $"mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: {x._dtype.CppScalarName()}");
        bool all = dims is null;
        var mask = DimMask(dims, x._shape.Length);
        long count = 1;
        for (int i = 0; i < mask.Length; i++) if (mask[i]) count *= x._shape[i];
        var sum = SumRaw(x, mask, keepdim, outType);
        var result = Raw.BinaryScalar(BinaryOp.Div, sum, (double)count, outType);
        return (all ? MeanAllRule : MeanDimRule).Record(result, x, 1.0 / count, args: new ReduceArgs(mask, keepdim));
    }

    /// <summary>Re-inserts reduced dims of size 1 so a reduced gradient broadcasts against the input.</summary>
    public static Tensor Unsqueeze(Tensor grad, bool[] mask, bool keepdim)
    {
        if (keepdim) return grad;
        for (int i = 0; i < mask.Length; i++)
            if (mask[i]) grad = grad.unsqueeze(i);
        return grad;
    }
}

/// <summary>The reduced dims (a mask over the input's dims) and keepdim: the args of a reduction's rule.</summary>
internal sealed record ReduceArgs(bool[] Mask, bool KeepDim);
