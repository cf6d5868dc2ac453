using Nabla.Autograd;
using Nabla.Backends;

namespace Nabla.Ops;

/// <summary>Reduction masks and reduced shapes for the ops (the data layout is the backend's, Note [Row layout for reductions]).</summary>
internal static class RowLayout
{
    /// <summary>A mask with only <paramref name="dim"/> set (a rank-0 tensor gets an empty mask).</summary>
    public static bool[] SingleDim(int dim, int rank)
    {
        var mask = new bool[rank];
        if (rank > 0) mask[dim] = true;
        return mask;
    }

    public static long[] ReducedShape(long[] shape, bool[] mask, bool keepdim)
    {
        var result = new List<long>(shape.Length);
        for (int i = 0; i < shape.Length; i++)
        {
            if (!mask[i]) result.Add(shape[i]);
            else if (keepdim) result.Add(1);
        }
        return result.ToArray();
    }
}

/// <summary>max/min/argmax/argmin/amax/amin.</summary>
internal static class MinMax
{
    static string Name(bool max) => max ? "max" : "min";

    /// <summary>Values and/or first indices of the extreme over the masked dims (NaN wins, as PyTorch); null is not wanted.</summary>
    static void Run(Tensor x, bool[] mask, Tensor? values, Tensor? indices, bool max) =>
        x.Backend.MaxMin(values is null ? default : values.Raw, indices is null ? default : indices.Raw, x.Raw, mask, max);

    static void CheckNonEmpty(Tensor x, bool[] mask, string op)
    {
        for (int i = 0; i < mask.Length; i++)
            if (mask[i] && x._shape[i] == 0)
                throw new IndexOutOfRangeException($"{op}(): Expected reduction dim {i} to have non-zero size.");
    }

    /// <summary>max()/min() over all elements (MaxBackward1/MinBackward1: ties share the gradient evenly).</summary>
    public static Tensor All(Tensor x, bool max)
    {
        if (x._numel == 0)
            throw new InvalidOperationException(
                $"{Name(max)}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.");
        var mask = Reductions.DimMask(null, x._shape.Length);
        var result = Tensor.EmptyLike(x, x._dtype, System.Array.Empty<long>());
        Run(x, mask, result, null, max);
        if (History.ShouldRecord(x))
        {
            var node = new EvenlyDistributedBackward(max ? "MaxBackward1" : "MinBackward1", x, result, mask, keepdim: false);
            node.SetNextEdges(x);
            History.Set(result, node);
        }
        return result;
    }

    /// <summary>max(dim)/min(dim): values and int64 indices (MaxBackward0/MinBackward0: the gradient goes to the index).</summary>
    public static (Tensor values, Tensor indices) Dim(Tensor x, long dim, bool keepdim, bool max)
    {
        int rank = x._shape.Length;
        int d = ShapeUtil.WrapDim(dim, rank);
        var mask = RowLayout.SingleDim(d, rank);
        CheckNonEmpty(x, mask, Name(max));
        var shape = RowLayout.ReducedShape(x._shape, mask, keepdim);
        var values = Tensor.EmptyLike(x, x._dtype, shape);
        var indices = Tensor.EmptyLike(x, ScalarType.Int64, shape);
        Run(x, mask, values, indices, max);
        if (History.ShouldRecord(x))
        {
            var node = new IndexSelectingBackward(max ? "MaxBackward0" : "MinBackward0", x, indices, d, keepdim);
            node.SetNextEdges(x);
            History.Set(values, node);
        }
        return (values, indices);
    }

    /// <summary>argmax/argmin over all elements (flattened) or over one dim; int64, never differentiable.</summary>
    public static Tensor Arg(Tensor x, long? dim, bool keepdim, bool max)
    {
        string op = max ? "argmax" : "argmin";
        int rank = x._shape.Length;
        if (dim is null)
        {
            if (x._numel == 0) throw new IndexOutOfRangeException($"{op}(): Expected reduction dim to be specified for input.numel() == 0.");
            var all = Reductions.DimMask(null, rank);
            var flat = Tensor.EmptyLike(x, ScalarType.Int64, keepdim ? RowLayout.ReducedShape(x._shape, all, true) : System.Array.Empty<long>());
            Run(x, all, null, flat, max);
            return flat;
        }
        int d = ShapeUtil.WrapDim(dim.Value, rank);
        var mask = RowLayout.SingleDim(d, rank);
        CheckNonEmpty(x, mask, op);
        var indices = Tensor.EmptyLike(x, ScalarType.Int64, RowLayout.ReducedShape(x._shape, mask, keepdim));
        Run(x, mask, null, indices, max);
        return indices;
    }

    /// <summary>amax/amin over dims (all dims when empty): AmaxBackward0/AminBackward0, ties share evenly.</summary>
    public static Tensor Amax(Tensor x, long[] dims, bool keepdim, bool max)
    {
        int rank = x._shape.Length;
        var mask = Reductions.DimMask(dims, rank);
        CheckNonEmpty(x, mask, max ? "amax" : "amin");
        var result = Tensor.EmptyLike(x, x._dtype, RowLayout.ReducedShape(x._shape, mask, keepdim));
        Run(x, mask, result, null, max);
        if (History.ShouldRecord(x))
        {
            var node = new EvenlyDistributedBackward(max ? "AmaxBackward0" : "AminBackward0", x, result, mask, keepdim);
            node.SetNextEdges(x);
            History.Set(result, node);
        }
        return result;
    }
}

/// <summary>
/// Backward of max()/min()/amax/amin: the gradient is shared evenly by every element equal to the result
/// (PyTorch's evenly_distribute_backward / scale_grad_by_count), NaN matching NaN.
/// </summary>
// Kept as a Node: saves the reduced values and a mask, name chosen per op.
internal sealed class EvenlyDistributedBackward : Node
{
    readonly string _name;
    SavedTensor _self, _result;
    readonly bool[] _mask;
    readonly bool _keepdim;

    public EvenlyDistributedBackward(string name, Tensor self, Tensor result, bool[] mask, bool keepdim)
    {
        _name = name;
        _self = new SavedTensor(self);
        _result = new SavedTensor(result, isOutput: true);
        _mask = mask;
        _keepdim = keepdim;
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var x = _self.Unpack(this);
        var result = Reductions.Unsqueeze(_result.Unpack(this).detach(), _mask, _keepdim);
        var grad = Reductions.Unsqueeze(g[0]!, _mask, _keepdim);
        var hit = (x == result) | (IsNaN(x) & IsNaN(result));
        var hits = hit.to(x._dtype);
        var dims = new List<long>();
        for (int i = 0; i < _mask.Length; i++) if (_mask[i]) dims.Add(i);
        var count = dims.Count == 0 ? hits : hits.sum(dims.ToArray(), keepdim: true);
        return new[] { grad.div(count) * hits };
    }

    static Tensor IsNaN(Tensor t) => Raw.Compare(CompareOp.Ne, t, t);

    protected internal override void ReleaseVariables()
    {
        _self.Release();
        _result.Release();
    }
}

/// <summary>Backward of max(dim)/min(dim): the gradient scattered into zeros at the chosen indices.</summary>
// Kept as a Node: saves the selected indices for double backward.
internal sealed class IndexSelectingBackward : Node
{
    readonly string _name;
    readonly long[] _selfShape;
    readonly ScalarType _selfType;
    SavedTensor _indices;
    readonly int _dim;
    readonly bool _keepdim;

    public IndexSelectingBackward(string name, Tensor self, Tensor indices, int dim, bool keepdim)
    {
        _name = name;
        _selfShape = self._shape;
        _selfType = self._dtype;
        _indices = new SavedTensor(indices);
        _dim = dim;
        _keepdim = keepdim;
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        if (_selfShape.Length == 0) return new[] { grad };
        var indices = _indices.Unpack(this);
        if (!_keepdim)
        {
            grad = grad.unsqueeze(_dim);
            indices = indices.unsqueeze(_dim);
        }
        return new[] { GatherScatter.ZerosOn(grad, _selfShape, _selfType).scatter(_dim, indices, grad) };
    }

    protected internal override void ReleaseVariables() => _indices.Release();
}
