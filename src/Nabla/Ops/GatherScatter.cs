using Nabla.Autograd;
using Nabla.Backends;

namespace Nabla.Ops;

/// <summary>gather, scatter (tensor or value source), scatter_add, index_select and masked_fill.</summary>
internal static class GatherScatter
{
    /// <summary>Zeros of <paramref name="shape"/> on the device of <paramref name="like"/> (gradients of index ops).</summary>
    internal static Tensor ZerosOn(Tensor like, long[] shape, ScalarType dtype) => new(like.Backend, dtype, (long[])shape.Clone(), zero: true);

    static void CheckIndex(Tensor self, int dim, Tensor index, Tensor? src, string op)
    {
        if (index._dtype != ScalarType.Int64) throw new InvalidOperationException($"{op}(): Expected dtype int64 for index");
        int rank = Math.Max(self._shape.Length, 1);
        if (Math.Max(index._shape.Length, 1) != rank)
            throw new InvalidOperationException("Index tensor must have the same number of dimensions as input tensor");
        if (src is not null && Math.Max(src._shape.Length, 1) != rank)
            throw new InvalidOperationException("Index tensor must have the same number of dimensions as src tensor");
        for (int d = 0; d < index._shape.Length && self._shape.Length > 0; d++)
        {
            bool tooBig = (d != dim && index._shape[d] > self._shape[d]) || (src is not null && index._shape[d] > src._shape[d]);
            if (!tooBig) continue;
            if (src is null)
                throw new InvalidOperationException(
                    $"Size does not match at dimension {d} expected index {ShapeUtil.Format(index._shape)} to be smaller than self {ShapeUtil.Format(self._shape)} apart from dimension {dim}");
            throw new InvalidOperationException(
                $"Expected index {ShapeUtil.Format(index._shape)} to be smaller than self {ShapeUtil.Format(self._shape)} apart from dimension {dim} and to be smaller size than src {ShapeUtil.Format(src._shape)}");
        }
    }

    /// <summary>out[i][j] = self[index[i][j]][j] (for dim 0), shaped as index (GatherBackward0).</summary>
    public static Tensor Gather(Tensor self, long dim, Tensor index)
    {
        int d = ShapeUtil.WrapDim(dim, self._shape.Length);
        CheckIndex(self, d, index, null, "gather");
        Raw.CheckSameDevice(self, index);
        var result = Tensor.EmptyLike(self, self._dtype, index._shape);
        self.Backend.Gather(result.Raw, self.Raw, index.Raw, d);
        if (History.ShouldRecord(self))
        {
            var node = new GatherBackward0(self, d, index);
            node.SetNextEdges(self);
            History.Set(result, node);
        }
        return result;
    }

    /// <summary>A copy of self with src (or value) written at the indexed positions; add accumulates instead.</summary>
    static Tensor ScatterCore(Tensor self, long dim, Tensor index, Tensor? src, Scalar value, bool add, string op)
    {
        int d = ShapeUtil.WrapDim(dim, self._shape.Length);
        if (src is not null && src._dtype != self._dtype) throw new InvalidOperationException($"{op}(): Expected self.dtype to be equal to src.dtype");
        CheckIndex(self, d, index, src, op);
        Raw.CheckSameDevice(self, index);
        if (src is not null) Raw.CheckSameDevice(self, src);
        var result = Tensor.EmptyLike(self, self._dtype, self._shape);
        Raw.CopyInto(result, self);
        var mode = src is null ? ScatterMode.Value : add ? ScatterMode.Add : ScatterMode.Src;
        self.Backend.Scatter(mode, result.Raw, index.Raw, src is null ? default : src.Raw, d, value);
        return result;
    }

    /// <summary>scatter with a tensor source (ScatterBackward0: self gets grad with the scattered places zeroed; src gathers).</summary>
    public static Tensor Scatter(Tensor self, long dim, Tensor index, Tensor src)
    {
        var result = ScatterCore(self, dim, index, src, default, false, "scatter");
        if (History.ShouldRecord(self, src))
        {
            var node = new ScatterBackward("ScatterBackward0", ShapeUtil.WrapDim(dim, self._shape.Length), index, src, add: false);
            node.SetNextEdges(self, src);
            History.Set(result, node);
        }
        return result;
    }

    /// <summary>scatter with a scalar value (ScatterBackward1).</summary>
    public static Tensor Scatter(Tensor self, long dim, Tensor index, Scalar value)
    {
        var result = ScatterCore(self, dim, index, null, value, false, "scatter");
        if (History.ShouldRecord(self))
        {
            var node = new ScatterBackward("ScatterBackward1", ShapeUtil.WrapDim(dim, self._shape.Length), index, null, add: false);
            node.SetNextEdges(self);
            History.Set(result, node);
        }
        return result;
    }

    /// <summary>self with src added at the indexed positions (ScatterAddBackward0).</summary>
    public static Tensor ScatterAdd(Tensor self, long dim, Tensor index, Tensor src)
    {
        var result = ScatterCore(self, dim, index, src, default, true, "scatter_add");
        if (History.ShouldRecord(self, src))
        {
            var node = new ScatterBackward("ScatterAddBackward0", ShapeUtil.WrapDim(dim, self._shape.Length), index, src, add: true);
            node.SetNextEdges(self, src);
            History.Set(result, node);
        }
        return result;
    }

    /// <summary>The slices of self at the given indices along dim (IndexSelectBackward0).</summary>
    public static Tensor IndexSelect(Tensor self, long dim, Tensor index)
    {
        if (index._dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new InvalidOperationException("index_select(): Expected dtype int32 or int64 for index");
        if (index._shape.Length > 1) throw new IndexOutOfRangeException("index_select(): Index is supposed to be a vector");
        int rank = self._shape.Length;
        int d = ShapeUtil.WrapDim(dim, rank);
        Raw.CheckSameDevice(self, index);
        var idx = Raw.Cast(index, ScalarType.Int64);
        var shape = (long[])self._shape.Clone();
        if (rank > 0) shape[d] = idx._numel;
        var result = Tensor.EmptyLike(self, self._dtype, shape);
        self.Backend.IndexSelect(result.Raw, self.Raw, idx.Raw, d);
        if (History.ShouldRecord(self))
        {
            var node = new IndexSelectBackward0(self, d, Raw.Cast(index, ScalarType.Int64));
            node.SetNextEdges(self);
            History.Set(result, node);
        }
        return result;
    }

    /// <summary>A copy of self with <paramref name="value"/> where <paramref name="mask"/> (broadcast to self) is true.</summary>
    static Tensor MaskedFillRaw(Tensor self, Tensor mask, Scalar value)
    {
        var shape = ShapeUtil.Broadcast(mask._shape, self._shape);
        if (!ShapeUtil.SameShape(shape, self._shape))
            throw new InvalidOperationException(
                $"masked_fill: the mask of shape {ShapeUtil.Format(mask._shape)} cannot be broadcast to the input of shape {ShapeUtil.Format(self._shape)}");
        var m = mask._dtype == ScalarType.Bool ? mask : mask.ne(0);
        var me = m.expand(self._shape);
        Raw.CheckSameDevice(self, me);
        var result = Tensor.EmptyLike(self, self._dtype, self._shape);
        self.Backend.MaskedFill(result.Raw, self.Raw, me.Raw, value);
        return result;
    }

    /// <summary>masked_fill with a scalar (MaskedFillBackward0).</summary>
    public static Tensor MaskedFill(Tensor self, Tensor mask, Scalar value)
    {
        var result = MaskedFillRaw(self, mask, value);
        if (History.ShouldRecord(self))
        {
            var node = new MaskedFillBackward(self, mask, null);
            node.SetNextEdges(self);
            History.Set(result, node);
        }
        return result;
    }

    /// <summary>masked_fill with a 0-d tensor value (MaskedFillBackward1; the value gets the sum of the masked gradient).</summary>
    public static Tensor MaskedFill(Tensor self, Tensor mask, Tensor value)
    {
        if (value._shape.Length != 0)
            throw new InvalidOperationException(
                $"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value._shape.Length} dimension(s).");
        // A meta value has no element to read on the host; the meta primitive writes nothing, so any scalar does.
        if (value.is_meta) Raw.CheckSameDevice(self, value);
        var result = MaskedFillRaw(self, mask, value.is_meta ? default : value.ToDouble());
        if (History.ShouldRecord(self, value))
        {
            var node = new MaskedFillBackward(self, mask, value);
            node.SetNextEdges(self, value);
            History.Set(result, node);
        }
        return result;
    }
}

/// <summary>Backward of gather: the gradient scatter-added into zeros of self's shape.</summary>
// Kept as a Node: saves an index list for double backward.
internal sealed class GatherBackward0 : Node
{
    readonly long[] _selfShape;
    readonly ScalarType _selfType;
    readonly int _dim;
    SavedTensor _index;

    public GatherBackward0(Tensor self, int dim, Tensor index)
    {
        _selfShape = self._shape; _selfType = self._dtype; _dim = dim; _index = new SavedTensor(index);
    }

    public override string name() => "GatherBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g) =>
        new[] { GatherScatter.ZerosOn(g[0]!, _selfShape, _selfType).scatter_add(_dim, _index.Unpack(this), g[0]!) };

    protected internal override void ReleaseVariables() => _index.Release();
}

/// <summary>Backward of scatter/scatter_add: self keeps the gradient (zeroed where overwritten); src gathers it.</summary>
// Kept as a Node: saves an index list for double backward.
internal sealed class ScatterBackward : Node
{
    readonly string _name;
    readonly int _dim;
    SavedTensor _index;
    readonly bool _hasSrc, _add;

    readonly long[] _srcShape;

    public ScatterBackward(string name, int dim, Tensor index, Tensor? src, bool add)
    {
        _name = name; _dim = dim; _index = new SavedTensor(index); _hasSrc = src is not null; _add = add;
        _srcShape = src?._shape ?? System.Array.Empty<long>();
    }

    /// <summary>src may be larger than index: the elements the index never reads get a zero gradient.</summary>
    static Tensor PadTo(Tensor grad, long[] shape)
    {
        for (int d = 0; d < shape.Length && d < grad._shape.Length; d++)
        {
            long missing = shape[d] - grad._shape[d];
            if (missing <= 0) continue;
            var zerosShape = grad.shape;
            zerosShape[d] = missing;
            grad = torch.cat(new[] { grad, GatherScatter.ZerosOn(grad, zerosShape, grad._dtype) }, d);
        }
        return grad;
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        var index = _index.Unpack(this);
        Tensor? gradSelf = null, gradSrc = null;
        if (NeedsInputGrad(0)) gradSelf = _add ? grad : grad.scatter(_dim, index, 0.0);
        if (_hasSrc && NeedsInputGrad(1)) gradSrc = PadTo(grad.gather(_dim, index), _srcShape);
        return _hasSrc ? new[] { gradSelf, gradSrc } : new[] { gradSelf };
    }

    protected internal override void ReleaseVariables() => _index.Release();
}

/// <summary>Backward of index_select: the gradient's slices added back at their indices (index_add into zeros).</summary>
// Kept as a Node: saves an index list for double backward.
internal sealed class IndexSelectBackward0 : Node
{
    readonly long[] _selfShape;
    readonly ScalarType _selfType;
    readonly int _dim;
    SavedTensor _index;

    public IndexSelectBackward0(Tensor self, int dim, Tensor index)
    {
        _selfShape = self._shape; _selfType = self._dtype; _dim = dim; _index = new SavedTensor(index);
    }

    public override string name() => "IndexSelectBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        var index = _index.Unpack(this);
        if (_selfShape.Length == 0) return new[] { grad.reshape(_selfShape) };
        // index_add as scatter_add: broadcast the 1-D index along every other dim of the gradient.
        var view = new long[_selfShape.Length];
        Array.Fill(view, 1L);
        view[_dim] = index._numel;
        var expanded = index.reshape(view).expand(grad._shape);
        return new[] { GatherScatter.ZerosOn(grad, _selfShape, _selfType).scatter_add(_dim, expanded.contiguous(), grad) };
    }

    protected internal override void ReleaseVariables() => _index.Release();
}

/// <summary>Backward of masked_fill: zero where filled; a tensor value receives the sum of those gradients.</summary>
// Kept as a Node: holds a mask that is no input edge, and the node name depends on the value's kind.
internal sealed class MaskedFillBackward : Node
{
    readonly Tensor _mask;
    readonly bool _hasValue;

    public MaskedFillBackward(Tensor self, Tensor mask, Tensor? value)
    {
        _mask = mask._dtype == ScalarType.Bool ? mask : mask.ne(0);
        _hasValue = value is not null;
    }

    public override string name() => _hasValue ? "MaskedFillBackward1" : "MaskedFillBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        var gradSelf = NeedsInputGrad(0) ? grad.masked_fill(_mask, 0.0) : null;
        if (!_hasValue) return new[] { gradSelf };
        Tensor? gradValue = null;
        if (NeedsInputGrad(1)) gradValue = (grad * _mask.to(grad._dtype)).sum();
        return new[] { gradSelf, gradValue };
    }
}
