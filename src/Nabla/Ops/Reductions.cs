using Nabla.Autograd;
using Nabla.Backends;

namespace Nabla.Ops;

internal static class Reductions
{
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
        if (History.ShouldRecord(x) && result._dtype.IsFloatingPoint())
        {
            var node = new SumBackward(x._shape, x._dtype, mask, keepdim, all ? "SumBackward0" : "SumBackward1", 1.0);
            node.SetNextEdges(x);
            History.Set(result, node);
        }
        return result;
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
        if (History.ShouldRecord(x))
        {
            var node = new SumBackward(x._shape, x._dtype, mask, keepdim, all ? "MeanBackward0" : "MeanBackward1", 1.0 / count);
            node.SetNextEdges(x);
            History.Set(result, node);
        }
        return result;
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

/// <summary>Backward of sum and mean: expand the (scaled) gradient back to the input's shape.</summary>
internal sealed class SumBackward : Node
{
    readonly long[] _selfShape;
    readonly ScalarType _selfType;
    readonly bool[] _mask;
    readonly bool _keepdim;
    readonly string _name;
    readonly double _scale;

    public SumBackward(long[] selfShape, ScalarType selfType, bool[] mask, bool keepdim, string name, double scale)
    {
        _selfShape = selfShape; _selfType = selfType; _mask = mask; _keepdim = keepdim; _name = name; _scale = scale;
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        // Expand first, then scale: over an empty dim the scale is inf and must meet no elements (as PyTorch).
        var grad = Reductions.Unsqueeze(g[0]!, _mask, _keepdim).expand(_selfShape);
        if (_scale != 1.0) grad = grad.mul(_scale);
        return new[] { Reduce.CastGrad(grad, _selfType) };
    }
}
