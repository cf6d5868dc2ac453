using Nabla.Autograd;
using Nabla.Kernels.Cpu;

namespace Nabla.Ops;

/// <summary>gather, scatter (tensor or value source), scatter_add, index_select and masked_fill.</summary>
internal static class GatherScatter
{
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

    static long[] Padded(long[] values, int rank, long fill)
    {
        if (values.Length == rank) return values;
        var r = new long[rank];
        Array.Fill(r, fill);
        return r;
    }

    /// <summary>
    /// Visits every position of the index (contiguous <paramref name="idx"/>, shape <paramref name="shape"/>) with an odometer:
    /// for gather, out[p] = self[.., index[p], ..]; for scatter, out[.., index[p], ..] = src[p] or value (or +=).
    /// <c>baseOff</c> tracks the self/out offset of the position with the indexed dim left out.
    /// </summary>
    static void Walk<T>(long[] shape, int dim, long dimSize, ReadOnlySpan<long> idx,
        T[] target, int targetOff, long[] targetStrides, T[] other, int otherOff, long[] otherStrides,
        int mode, T value) where T : unmanaged, System.Numerics.INumber<T>
    {
        // mode 0: gather (target = self, other = out contiguous); 1: scatter src; 2: scatter value; 3: scatter_add src
        int rank = shape.Length;
        var counter = new long[rank];
        long baseOff = targetOff, otherPos = otherOff;
        long dimStride = targetStrides[dim];
        for (int p = 0; p < idx.Length; p++)
        {
            long v = idx[p];
            if (v < 0 || v >= dimSize)
                throw new InvalidOperationException($"index {v} is out of bounds for dimension {dim} with size {dimSize}");
            long t = baseOff + v * dimStride;
            switch (mode)
            {
                case 0: other[otherOff + p] = target[t]; break;
                case 1: target[t] = other[otherPos]; break;
                case 2: target[t] = value; break;
                default: target[t] += other[otherPos]; break;
            }
            for (int d = rank - 1; d >= 0; d--)
            {
                counter[d]++;
                if (d != dim) baseOff += targetStrides[d];
                otherPos += otherStrides[d];
                if (counter[d] < shape[d]) break;
                if (d != dim) baseOff -= targetStrides[d] * shape[d];
                otherPos -= otherStrides[d] * shape[d];
                counter[d] = 0;
            }
        }
    }

    static void WalkTyped(Tensor target, Tensor index, int dim, Tensor? other, int mode, Scalar value)
    {
        switch (target._dtype)
        {
            case ScalarType.Float32: WalkT<float>(target, index, dim, other, mode, value.As<float>()); break;
            case ScalarType.Float64: WalkT<double>(target, index, dim, other, mode, value.As<double>()); break;
            case ScalarType.Int64: WalkT<long>(target, index, dim, other, mode, value.As<long>()); break;
            case ScalarType.Int32: WalkT<int>(target, index, dim, other, mode, value.As<int>()); break;
            default:
            {
                // bool: work in int32 and copy back
                var asInt = Dispatch.ToDType(target, ScalarType.Int32);
                var o = other is null ? null : (mode == 0 ? Tensor.Empty(ScalarType.Int32, other._shape) : Dispatch.ToDType(other, ScalarType.Int32));
                WalkT<int>(asInt, index, dim, o, mode, value.Value != 0 ? 1 : 0);
                if (mode == 0) Dispatch.CopyInto(other!, o!);
                else Dispatch.CopyInto(target, asInt);
                break;
            }
        }
    }

    static void WalkT<T>(Tensor target, Tensor index, int dim, Tensor? other, int mode, T value) where T : unmanaged, System.Numerics.INumber<T>
    {
        var idx = index.ContiguousRaw().Contiguous<long>();
        if (idx.Length == 0) return;
        int rank = Math.Max(index._shape.Length, 1);
        var shape = Padded(index._shape, rank, 1);
        var ts = (Storage<T>)target._storage;
        long dimSize = target._shape.Length == 0 ? 1 : target._shape[dim];
        var targetStrides = Padded(target._strides, rank, 1);
        T[] otherArray = System.Array.Empty<T>();
        int otherOff = 0;
        long[] otherStrides = new long[rank];
        if (other is not null)
        {
            var os = (Storage<T>)other._storage;
            otherArray = os.Array;
            otherOff = os.Start + other._offset;
            otherStrides = Padded(other._strides, rank, 0);
        }
        Walk(shape, dim, dimSize, idx, ts.Array, ts.Start + target._offset, targetStrides, otherArray, otherOff, otherStrides, mode, value);
    }

    /// <summary>out[i][j] = self[index[i][j]][j] (for dim 0), shaped as index (GatherBackward0).</summary>
    public static Tensor Gather(Tensor self, long dim, Tensor index)
    {
        int d = ShapeUtil.WrapDim(dim, self._shape.Length);
        CheckIndex(self, d, index, null, "gather");
        var result = Tensor.Empty(self._dtype, index._shape);
        WalkTyped(self, index, d, result, 0, default);
        if (Autograd.Autograd.ShouldRecord(self))
        {
            var node = new GatherBackward0(self, d, index);
            node.SetNextEdges(self);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    /// <summary>A copy of self with src (or value) written at the indexed positions; add accumulates instead.</summary>
    static Tensor ScatterCore(Tensor self, long dim, Tensor index, Tensor? src, Scalar value, bool add, string op)
    {
        int d = ShapeUtil.WrapDim(dim, self._shape.Length);
        if (src is not null && src._dtype != self._dtype) throw new InvalidOperationException($"{op}(): Expected self.dtype to be equal to src.dtype");
        CheckIndex(self, d, index, src, op);
        var result = Tensor.Empty(self._dtype, self._shape);
        Dispatch.CopyInto(result, self);
        WalkTyped(result, index, d, src, src is null ? 2 : add ? 3 : 1, value);
        return result;
    }

    /// <summary>scatter with a tensor source (ScatterBackward0: self gets grad with the scattered places zeroed; src gathers).</summary>
    public static Tensor Scatter(Tensor self, long dim, Tensor index, Tensor src)
    {
        var result = ScatterCore(self, dim, index, src, default, false, "scatter");
        if (Autograd.Autograd.ShouldRecord(self, src))
        {
            var node = new ScatterBackward("ScatterBackward0", ShapeUtil.WrapDim(dim, self._shape.Length), index, src, add: false);
            node.SetNextEdges(self, src);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    /// <summary>scatter with a scalar value (ScatterBackward1).</summary>
    public static Tensor Scatter(Tensor self, long dim, Tensor index, Scalar value)
    {
        var result = ScatterCore(self, dim, index, null, value, false, "scatter");
        if (Autograd.Autograd.ShouldRecord(self))
        {
            var node = new ScatterBackward("ScatterBackward1", ShapeUtil.WrapDim(dim, self._shape.Length), index, null, add: false);
            node.SetNextEdges(self);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    /// <summary>self with src added at the indexed positions (ScatterAddBackward0).</summary>
    public static Tensor ScatterAdd(Tensor self, long dim, Tensor index, Tensor src)
    {
        var result = ScatterCore(self, dim, index, src, default, true, "scatter_add");
        if (Autograd.Autograd.ShouldRecord(self, src))
        {
            var node = new ScatterBackward("ScatterAddBackward0", ShapeUtil.WrapDim(dim, self._shape.Length), index, src, add: true);
            node.SetNextEdges(self, src);
            Autograd.Autograd.SetHistory(result, node);
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
        var idx = Dispatch.Cast(index, ScalarType.Int64).ContiguousRaw().Contiguous<long>();
        long size = rank == 0 ? 1 : self._shape[d];
        var shape = (long[])self._shape.Clone();
        if (rank > 0) shape[d] = idx.Length;
        var result = Tensor.Empty(self._dtype, shape);
        for (int j = 0; j < idx.Length; j++)
        {
            long v = idx[j];
            if (v < 0 || v >= size) throw new IndexOutOfRangeException("index out of range in self");
            if (rank == 0) Dispatch.CopyInto(result, self);
            else Dispatch.CopyInto(Joining.SelectRaw(result, d, j), Joining.SelectRaw(self, d, v));
        }
        if (Autograd.Autograd.ShouldRecord(self))
        {
            var node = new IndexSelectBackward0(self, d, Dispatch.Cast(index, ScalarType.Int64));
            node.SetNextEdges(self);
            Autograd.Autograd.SetHistory(result, node);
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
        var bits = (me.is_contiguous() ? me : me.ContiguousRaw()).Contiguous<bool>();
        var src = self.is_contiguous() ? self : self.ContiguousRaw();
        var result = Tensor.Empty(self._dtype, self._shape);
        switch (self._dtype)
        {
            case ScalarType.Float32: Fill(result, src, bits, value.As<float>()); break;
            case ScalarType.Float64: Fill(result, src, bits, value.As<double>()); break;
            case ScalarType.Int64: Fill(result, src, bits, value.As<long>()); break;
            case ScalarType.Int32: Fill(result, src, bits, value.As<int>()); break;
            default: Fill(result, src, bits, value.Value != 0); break;
        }
        return result;
    }

    static void Fill<T>(Tensor result, Tensor src, ReadOnlySpan<bool> mask, T value) where T : unmanaged =>
        SelectKernels.Select(mask, default, value, true, src.Contiguous<T>(), result.Contiguous<T>());

    /// <summary>masked_fill with a scalar (MaskedFillBackward0).</summary>
    public static Tensor MaskedFill(Tensor self, Tensor mask, Scalar value)
    {
        var result = MaskedFillRaw(self, mask, value);
        if (Autograd.Autograd.ShouldRecord(self))
        {
            var node = new MaskedFillBackward(self, mask, null);
            node.SetNextEdges(self);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }

    /// <summary>masked_fill with a 0-d tensor value (MaskedFillBackward1; the value gets the sum of the masked gradient).</summary>
    public static Tensor MaskedFill(Tensor self, Tensor mask, Tensor value)
    {
        if (value._shape.Length != 0)
            throw new InvalidOperationException(
                $"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value._shape.Length} dimension(s).");
        var result = MaskedFillRaw(self, mask, value.ToDouble());
        if (Autograd.Autograd.ShouldRecord(self, value))
        {
            var node = new MaskedFillBackward(self, mask, value);
            node.SetNextEdges(self, value);
            Autograd.Autograd.SetHistory(result, node);
        }
        return result;
    }
}

/// <summary>Backward of gather: the gradient scatter-added into zeros of self's shape.</summary>
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
        new[] { torch.zeros(_selfShape, _selfType).scatter_add(_dim, _index.Unpack(this), g[0]!) };

    protected internal override void ReleaseVariables() => _index.Release();
}

/// <summary>Backward of scatter/scatter_add: self keeps the gradient (zeroed where overwritten); src gathers it.</summary>
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
            grad = torch.cat(new[] { grad, torch.zeros(zerosShape, grad._dtype) }, d);
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
        return new[] { torch.zeros(_selfShape, _selfType).scatter_add(_dim, expanded.contiguous(), grad) };
    }

    protected internal override void ReleaseVariables() => _index.Release();
}

/// <summary>Backward of masked_fill: zero where filled; a tensor value receives the sum of those gradients.</summary>
internal sealed class MaskedFillBackward : Node
{
    readonly Tensor _mask;
    readonly bool _hasValue;
    readonly ScalarType _valueType;

    public MaskedFillBackward(Tensor self, Tensor mask, Tensor? value)
    {
        _mask = mask._dtype == ScalarType.Bool ? mask : mask.ne(0);
        _hasValue = value is not null;
        _valueType = value?._dtype ?? self._dtype;
    }

    public override string name() => _hasValue ? "MaskedFillBackward1" : "MaskedFillBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        var gradSelf = NeedsInputGrad(0) ? grad.masked_fill(_mask, 0.0) : null;
        if (!_hasValue) return new[] { gradSelf };
        Tensor? gradValue = null;
        if (NeedsInputGrad(1)) gradValue = Reduce.CastGrad((grad * _mask.to(grad._dtype)).sum(), _valueType);
        return new[] { gradSelf, gradValue };
    }
}
