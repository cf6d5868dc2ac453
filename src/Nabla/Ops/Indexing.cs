using Nabla.Autograd;
using Nabla.Backends;

namespace Nabla.Ops;

// Note [Indexing]
// x[i, a:b, None, ..., idx] runs in two phases, as PyTorch's applySlicing + index:
//  1. basic indexing: integers, slices, None and booleans become views (select, slice, unsqueeze), recorded as
//     SelectBackward0 / SliceBackward0 / UnsqueezeBackward0; the dim counter walks the partially indexed result;
//  2. advanced indexing: the index tensors, positioned on the dims of that view (a k-dim bool mask spans k dims and
//     becomes k int64 tensors via nonzero), gather a copy (IndexBackward0).
// Writes go through the same two phases on a raw view and then copy/fill (basic) or scatter (advanced) in place.
// With autograd, the written tensor takes a node whose edges are (its previous history, the value): the name is
// PyTorch's (CopySlices when phase 1 made a view, IndexPutBackward0 for index_put_ on the tensor itself, FillBackward3 /
// CopyBackwards for x[...] = v); the backward zeroes the written region of the gradient and routes the region's
// gradient to the value. Both are written with differentiable ops, so double backward works.

internal enum BasicIndexKind { Select, Slice, Unsqueeze }

/// <summary>One phase-1 step: select(dim, start), slice(dim, start, stop, step) or unsqueeze(dim).</summary>
internal readonly record struct BasicIndexOp(BasicIndexKind Kind, int Dim, long? Start, long? Stop, long Step);

/// <summary>A parsed index expression: the view steps and the advanced index tensors on the resulting view.</summary>
internal sealed class IndexRegion
{
    public readonly BasicIndexOp[] Ops;

    /// <summary>One int64 tensor or null per dim of the basic-indexed view; null when there is no advanced index.</summary>
    public readonly Tensor?[]? Advanced;

    public IndexRegion(BasicIndexOp[] ops, Tensor?[]? advanced) { Ops = ops; Advanced = advanced; }

    /// <summary>Replays the view steps on <paramref name="t"/> (recorded as views when grad mode is on).</summary>
    public Tensor ApplyBasic(Tensor t)
    {
        foreach (var op in Ops)
        {
            t = op.Kind switch
            {
                BasicIndexKind.Select => Views.Select(t, op.Dim, op.Start!.Value),
                BasicIndexKind.Slice => Views.Slice(t, op.Dim, op.Start, op.Stop, op.Step),
                _ => Views.Unsqueeze(t, op.Dim),
            };
        }
        return t;
    }

    public Tensor ApplyBasicRaw(Tensor t)
    {
        using (torch.no_grad()) return ApplyBasic(t);
    }
}

internal static class Indexing
{
    const string ZeroDimMessage =
        "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number";

    /// <summary>Phase 1 of Note [Indexing]: the views, applied to <paramref name="self"/>, and the advanced indices.</summary>
    public static IndexRegion Parse(Tensor self, TensorIndex[] indices, out Tensor sliced)
    {
        int rank = self._shape.Length;
        int specified = 0, ellipses = 0;
        foreach (var ix in indices)
        {
            if (ix is null) throw new ArgumentNullException(nameof(indices), "an index cannot be null; use TensorIndex.None for a new axis");
            switch (ix.kind)
            {
                case TensorIndex.Type.Single:
                case TensorIndex.Type.Slice: specified++; break;
                case TensorIndex.Type.Tensor: specified += ix.tensor!._dtype == ScalarType.Bool ? ix.tensor._shape.Length : 1; break;
                case TensorIndex.Type.Ellipsis: ellipses++; break;
            }
        }
        if (ellipses > 1) throw new IndexOutOfRangeException("an index can only have a single ellipsis ('...')");
        bool singleInteger = indices.Length == 1 && indices[0].kind == TensorIndex.Type.Single;
        if (!singleInteger && specified > rank) throw new IndexOutOfRangeException($"too many indices for tensor of dimension {rank}");

        var ops = new List<BasicIndexOp>();
        List<(int Dim, Tensor Index)>? tensors = null;
        var result = self;
        int dim = 0;
        for (int i = 0; i < indices.Length; i++)
        {
            var ix = indices[i];
            switch (ix.kind)
            {
                case TensorIndex.Type.Single:
                    result = Select(result, dim, ix.startIndexOrBoolOrSingle!.Value, ix.SingleIsEnd, i, ops);
                    break;
                case TensorIndex.Type.Slice:
                {
                    long step = ix.step ?? 1;
                    if (step == 0) throw new ArgumentException("slice step cannot be zero");
                    if (step < 0) throw new ArgumentException("step must be greater than zero");
                    ops.Add(new(BasicIndexKind.Slice, dim, ix.startIndexOrBoolOrSingle, ix.stopIndex, step));
                    result = Views.Slice(result, dim, ix.startIndexOrBoolOrSingle, ix.stopIndex, step);
                    dim++;
                    break;
                }
                case TensorIndex.Type.Ellipsis:
                    dim += rank - specified;
                    break;
                case TensorIndex.Type.None:
                    ops.Add(new(BasicIndexKind.Unsqueeze, dim, null, null, 1));
                    result = Views.Unsqueeze(result, dim);
                    dim++;
                    break;
                case TensorIndex.Type.Bool:
                    result = BoolIndex(result, ref dim, ix.startIndexOrBoolOrSingle != 0, ops, ref tensors);
                    break;
                default:
                {
                    var t = ix.tensor!;
                    CheckIndexDType(t);
                    if (t._shape.Length == 0 && t._dtype != ScalarType.Bool)
                        result = Select(result, dim, t.item<long>(), false, i, ops);
                    else if (t._shape.Length == 0)
                        result = BoolIndex(result, ref dim, t.item<bool>(), ops, ref tensors);
                    else
                    {
                        (tensors ??= new()).Add((dim, t));
                        dim += t._dtype == ScalarType.Bool ? t._shape.Length : 1;
                    }
                    break;
                }
            }
        }
        sliced = result;
        return new IndexRegion(ops.ToArray(), tensors is null ? null : ExpandIndices(result._shape, tensors));
    }

    static Tensor Select(Tensor t, int dim, long index, bool isEnd, int realDim, List<BasicIndexOp> ops)
    {
        if (t._shape.Length == 0) throw new IndexOutOfRangeException(ZeroDimMessage);
        long size = t._shape[dim];
        if (isEnd) index = size;
        if (index < -size || index >= size)
            throw new IndexOutOfRangeException($"index {index} is out of bounds for dimension {realDim} with size {size}");
        ops.Add(new(BasicIndexKind.Select, dim, index, null, 1));
        return Views.Select(t, dim, index);
    }

    static Tensor BoolIndex(Tensor t, ref int dim, bool value, List<BasicIndexOp> ops, ref List<(int, Tensor)>? tensors)
    {
        // PyTorch's boolToIndexingTensor: a new axis, indexed by [0] (true) or [] (false).
        ops.Add(new(BasicIndexKind.Unsqueeze, dim, null, null, 1));
        t = Views.Unsqueeze(t, dim);
        var index = GatherScatter.ZerosOn(t, new long[] { value ? 1 : 0 }, ScalarType.Int64);
        (tensors ??= new()).Add((dim, index));
        dim++;
        return t;
    }

    static void CheckIndexDType(Tensor t)
    {
        if (t._dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.Bool))
            throw new IndexOutOfRangeException("tensors used as indices must be long, int, byte or bool tensors");
    }

    /// <summary>Places index tensors on the dims of the indexed view; bool masks are checked and become nonzero columns.</summary>
    static Tensor?[] ExpandIndices(long[] shape, List<(int Dim, Tensor Index)> tensors)
    {
        var adv = new Tensor?[shape.Length];
        foreach (var (dim, t) in tensors)
        {
            if (t._dtype == ScalarType.Bool)
            {
                for (int j = 0; j < t._shape.Length; j++)
                    if (dim + j >= shape.Length || t._shape[j] != shape[dim + j])
                        throw new IndexOutOfRangeException(
                            $"The shape of the mask {ShapeUtil.Format(t._shape)} at index {j} does not match the shape of the indexed tensor {ShapeUtil.Format(shape)} at index {dim + j}");
                var columns = NonzeroPerDim(t);
                for (int j = 0; j < columns.Length; j++) adv[dim + j] = columns[j];
            }
            else adv[dim] = Raw.ToDType(t, ScalarType.Int64); // a private copy: later writes to t cannot change the graph
        }
        return adv;
    }

    /// <summary>The positions of the true elements of a bool mask: one int64 tensor of length nnz per mask dim.</summary>
    static Tensor[] NonzeroPerDim(Tensor mask)
    {
        int rank = mask._shape.Length;
        int count = mask.Backend.CountNonzero(mask.Raw);
        var all = Tensor.EmptyLike(mask, ScalarType.Int64, new long[] { rank, count });
        mask.Backend.NonzeroPerDim(all.Raw, mask.Raw);
        var result = new Tensor[rank];
        for (int d = 0; d < rank; d++) result[d] = Joining.SelectRaw(all, 0, d);
        return result;
    }

    /// <summary>
    /// The shape of advanced indexing of <paramref name="t"/> by <paramref name="indices"/> (one int64 tensor or null
    /// per dim of t), as Note [Advanced indexing layout] places the dims; PyTorch's error when the indices do not
    /// broadcast. Index values are checked by the backend.
    /// </summary>
    public static long[] AdvancedShape(Tensor t, Tensor?[] indices)
    {
        int rank = t._shape.Length;
        var broadcast = System.Array.Empty<long>();
        int first = -1, last = -1;
        for (int d = 0; d < indices.Length; d++)
        {
            var idx = indices[d];
            if (idx is null) continue;
            Raw.CheckSameDevice(t, idx);
            if (first < 0) first = d;
            last = d;
            try { broadcast = ShapeUtil.Broadcast(broadcast, idx._shape); }
            catch (ArgumentException) { throw BroadcastError(indices); }
        }
        bool adjacent = true;
        for (int d = first; d <= last; d++) if (indices[d] is null) adjacent = false;
        var pre = new List<long>();
        var post = new List<long>();
        for (int d = 0; d < rank; d++)
        {
            if (d < indices.Length && indices[d] is not null) continue;
            if (adjacent && d < first) pre.Add(t._shape[d]); else post.Add(t._shape[d]);
        }
        pre.AddRange(broadcast);
        pre.AddRange(post);
        return pre.ToArray();
    }

    static IndexOutOfRangeException BroadcastError(Tensor?[] indices)
    {
        var shapes = new List<string>();
        foreach (var idx in indices) if (idx is not null) shapes.Add(ShapeUtil.Format(idx._shape));
        return new IndexOutOfRangeException(
            "shape mismatch: indexing tensors could not be broadcast together with shapes " + string.Join(", ", shapes));
    }

    /// <summary>The index tensors as backend operands (<c>default</c> for a dim that is not indexed).</summary>
    static Operand[] Operands(Tensor?[] indices)
    {
        var result = new Operand[indices.Length];
        for (int d = 0; d < indices.Length; d++) if (indices[d] is { } idx) result[d] = idx.Raw;
        return result;
    }

    /// <summary>Writes <paramref name="values"/> (broadcast to the indexing result) into dst at the indices.</summary>
    static void Scatter(Tensor dst, Tensor?[] indices, Tensor values, bool accumulate)
    {
        var shape = AdvancedShape(dst, indices);
        var full = BroadcastValues(values, shape, dst);
        dst.Backend.IndexScatter(dst.Raw, Operands(indices), full.Raw, accumulate);
    }

    /// <summary>The indices of <c>index_put_(indices, values)</c>: one tensor (or null for a whole dim) per leading dim.</summary>
    public static Tensor?[] IndexPutIndices(Tensor self, Tensor?[] indices)
    {
        var tensors = new List<(int, Tensor)>();
        int dim = 0;
        foreach (var t in indices)
        {
            if (t is null) { dim++; continue; }
            CheckIndexDType(t);
            if (t._shape.Length == 0 && t._dtype == ScalarType.Bool)
                throw new ArgumentException("index_put_(): 0-dim bool indices are not supported; use the indexer (x[mask] = v)");
            tensors.Add((dim, t));
            dim += t._dtype == ScalarType.Bool ? t._shape.Length : 1;
        }
        if (dim > self._shape.Length)
            throw new IndexOutOfRangeException($"too many indices for tensor of dimension {self._shape.Length} (got {dim})");
        if (tensors.Count == 0) throw new ArgumentException("index_put_(): at least one index must be a tensor");
        return ExpandIndices(self._shape, tensors);
    }

    // ---- reading ----------------------------------------------------------------------------------------------

    /// <summary><c>self[indices]</c>: a view for basic indexing, a copy (IndexBackward0) with index tensors.</summary>
    public static Tensor Index(Tensor self, TensorIndex[] indices)
    {
        var region = Parse(self, indices, out var sliced);
        if (region.Advanced is not null) return Gather(sliced, region.Advanced);
        if (region.Ops.Length > 0) return sliced;
        // x[...] (or x[()]) is a fresh alias, as PyTorch records it.
        var alias = Views.MakeView(self, self._shape, self._strides, self._offset);
        if (!History.ShouldRecord(self)) return alias;
        var node = new ViewBackward0(self._shape, "AliasBackward0");
        node.SetNextEdges(self);
        return History.Set(alias, node);
    }

    /// <summary>Advanced indexing of <paramref name="self"/> by one int64 tensor or null per dim (IndexBackward0).</summary>
    public static Tensor Gather(Tensor self, Tensor?[] indices)
    {
        var result = Tensor.EmptyLike(self, self._dtype, AdvancedShape(self, indices));
        self.Backend.IndexGather(result.Raw, self.Raw, Operands(indices));
        if (History.ShouldRecord(self))
        {
            var node = new IndexBackward0(self._shape, indices);
            node.SetNextEdges(self);
            History.Set(result, node);
        }
        return result;
    }

    /// <summary>Out-of-place <c>index_put</c>: a copy of self with values written (or added) at the indices.</summary>
    public static Tensor IndexPut(Tensor self, Tensor?[] indices, Tensor values, bool accumulate)
    {
        CheckValueDType(self, values);
        var result = Tensor.EmptyLike(self, self._dtype, self._shape);
        Raw.CopyInto(result, self);
        Scatter(result, indices, values, accumulate);
        if (History.ShouldRecord(self, values))
        {
            var node = new WriteBackward("IndexPutBackward0", new IndexRegion(System.Array.Empty<BasicIndexOp>(), indices), accumulate, values._shape, values._dtype);
            node.SetNextEdges(self, values);
            History.Set(result, node);
        }
        return result;
    }

    static void CheckValueDType(Tensor self, Tensor values)
    {
        if (values._dtype != self._dtype && !values._wrappedNumber)
            throw new InvalidOperationException(
                $"Index put requires the source and destination dtypes match, got {self._dtype.CppScalarName()} for the destination and {values._dtype.CppScalarName()} for the source.");
    }

    /// <summary>values broadcast to <paramref name="shape"/> in a fresh tensor of dst's dtype and device.</summary>
    static Tensor BroadcastValues(Tensor values, long[] shape, Tensor dst)
    {
        var full = Tensor.EmptyLike(dst, dst._dtype, shape);
        try { Raw.CopyInto(full, values); }
        catch (ArgumentException)
        {
            throw new InvalidOperationException(
                $"shape mismatch: value tensor of shape {ShapeUtil.Format(values._shape)} cannot be broadcast to indexing result of shape {ShapeUtil.Format(shape)}");
        }
        return full;
    }

    /// <summary>PyTorch's slicePrefix1sDims: setitem drops the value's leading size-1 dims (a raw view).</summary>
    static Tensor StripLeadingOnes(Tensor value)
    {
        int lead = 0;
        while (lead < value._shape.Length && value._shape[lead] == 1) lead++;
        if (lead == 0) return value;
        return new Tensor(value._storage, value._shape[lead..], value._strides[lead..], value._offset);
    }

    // ---- writing ----------------------------------------------------------------------------------------------

    /// <summary><c>self[indices] = value</c> (setitem).</summary>
    public static void SetItem(Tensor self, TensorIndex[] indices, Tensor value)
    {
        if (indices.Length == 1 && indices[0].kind == TensorIndex.Type.Bool && indices[0].startIndexOrBoolOrSingle == 0)
            return; // x[False] = v writes nothing, as in PyTorch
        IndexRegion region;
        Tensor sliced;
        using (torch.no_grad()) region = Parse(self, indices, out sliced);
        Write(self, region, sliced, value, StripLeadingOnes(value), accumulate: false);
    }

    /// <summary><c>self.index_put_(indices, values, accumulate)</c>.</summary>
    public static Tensor IndexPutInplace(Tensor self, Tensor?[] indices, Tensor values, bool accumulate)
    {
        var region = new IndexRegion(System.Array.Empty<BasicIndexOp>(), IndexPutIndices(self, indices));
        Write(self, region, self, values, values, accumulate);
        return self;
    }

    static void Write(Tensor self, IndexRegion region, Tensor sliced, Tensor value, Tensor writeValue, bool accumulate)
    {
        History.CheckInplace(sliced);
        bool record = GradMode.IsEnabled && (self.requires_grad || value.requires_grad);
        if (record && self._base is not null)
            throw new NotSupportedException(
                "indexed assignment into a view is not supported by Nabla when autograd records it (PyTorch rebases the view's base with CopySlices); index the base tensor directly, or clone() the view first");
        if (region.Advanced is null)
        {
            if (ReferenceEquals(writeValue._storage, self._storage)) writeValue = Raw.ToDType(writeValue, writeValue._dtype);
            Raw.CopyInto(sliced, writeValue); // validates the broadcast before writing anything
        }
        else
        {
            CheckValueDType(self, value);
            Scatter(sliced, region.Advanced, writeValue, accumulate);
        }
        self.BumpVersion();
        if (!record) return;
        string name = region.Ops.Length > 0 ? "torch::autograd::CopySlices"
            : region.Advanced is not null ? "IndexPutBackward0"
            : value._shape.Length == 0 ? "FillBackward3" : "torch::autograd::CopyBackwards";
        var node = new WriteBackward(name, region, accumulate, value._shape, value._dtype);
        node.SetNextEdges(self, value);
        History.Set(self, node);
    }

    /// <summary>A copy of <paramref name="grad"/> with the region zeroed (differentiable: its backward zeroes again).</summary>
    public static Tensor ZeroRegion(Tensor grad, IndexRegion region)
    {
        var result = Tensor.EmptyLike(grad, grad._dtype, grad._shape);
        Raw.CopyInto(result, grad);
        var sliced = region.ApplyBasicRaw(result);
        if (region.Advanced is null) sliced.FillUnchecked(0);
        else
        {
            var zeros = GatherScatter.ZerosOn(grad, AdvancedShape(sliced, region.Advanced), grad._dtype);
            sliced.Backend.IndexScatter(sliced.Raw, Operands(region.Advanced), zeros.Raw, accumulate: false);
        }
        if (History.ShouldRecord(grad))
        {
            var node = new ZeroRegionBackward(region);
            node.SetNextEdges(grad);
            History.Set(result, node);
        }
        return result;
    }

    /// <summary>The gradient of a written value: the region of the output gradient, summed back to the value's shape.</summary>
    public static Tensor RegionGradient(Tensor grad, IndexRegion region, long[] valueShape, ScalarType valueDType)
    {
        var g = region.ApplyBasic(grad);
        if (region.Advanced is not null) g = Gather(g, region.Advanced);
        int lead = 0;
        while (lead < valueShape.Length && valueShape[lead] == 1) lead++;
        var stripped = valueShape[lead..];
        g = g.SumToSize(stripped);
        if (!ShapeUtil.SameShape(g._shape, valueShape)) g = g.reshape(valueShape);
        return g;   // in the gradient's dtype: the engine casts it to the value's
    }
}

/// <summary>Backward of advanced indexing: the gradient scattered (summed over repeats) into zeros of the input's shape.</summary>
// Kept as a Node: saves index lists for double backward.
internal sealed class IndexBackward0 : Node
{
    readonly long[] _selfShape;
    Tensor?[]? _indices;   // saved (PyTorch's indices_), freed after a backward that does not retain the graph
    public IndexBackward0(long[] selfShape, Tensor?[] indices) { _selfShape = selfShape; _indices = indices; }
    public override string name() => "IndexBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g) =>
        new[] { Indexing.IndexPut(GatherScatter.ZerosOn(g[0]!, _selfShape, g[0]!._dtype),
            _indices ?? throw new InvalidOperationException(SavedTensor.SecondBackwardMessage), g[0]!, accumulate: true) };
    protected internal override void ReleaseVariables() => _indices = null;
}

/// <summary>
/// Backward of a write into a region (setitem, index_put_, index_put): the written region gets no gradient (unless
/// accumulating), the value gets the region's gradient. Named as PyTorch names the node for that write.
/// </summary>
// Kept as a Node: saves an index region; its name depends on the write.
internal sealed class WriteBackward : Node
{
    readonly string _name;
    readonly IndexRegion _region;
    readonly bool _accumulate;
    readonly long[] _valueShape;
    readonly ScalarType _valueDType;

    public WriteBackward(string name, IndexRegion region, bool accumulate, long[] valueShape, ScalarType valueDType)
    {
        _name = name; _region = region; _accumulate = accumulate; _valueShape = valueShape; _valueDType = valueDType;
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        Tensor? self = !NeedsInputGrad(0) ? null : _accumulate ? grad : Indexing.ZeroRegion(grad, _region);
        Tensor? value = NeedsInputGrad(1) ? Indexing.RegionGradient(grad, _region, _valueShape, _valueDType) : null;
        return new[] { self, value };
    }
}

/// <summary>Backward of <see cref="Indexing.ZeroRegion"/> (appears only in double backward): zero the region again.</summary>
// Kept as a Node: saves an index region.
internal sealed class ZeroRegionBackward : Node
{
    readonly IndexRegion _region;
    public ZeroRegionBackward(IndexRegion region) => _region = region;
    public override string name() => _region.Ops.Length > 0 ? "torch::autograd::CopySlices" : "IndexPutBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g) => new[] { Indexing.ZeroRegion(g[0]!, _region) };
}
