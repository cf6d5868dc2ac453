using Nabla.Autograd;

namespace Nabla.Ops;

// View ops share storage with their input: only shape, strides and offset change. Their backward rules map the
// gradient back to the input's shape (Note [Views]: a view of a view records its own node; the base pointer always
// names the root storage owner, so in-place checks can find the leaf it aliases).

internal static class Views
{
    public static Tensor MakeView(Tensor self, long[] shape, long[] strides, int offset)
    {
        var v = new Tensor(self._storage, shape, strides, offset);
        v._base = self._base ?? self;
        v._isInference = self._isInference;
        return v;
    }

    static Tensor Record(Tensor view, Tensor self, Node node)
    {
        // A view of an inference tensor is an inference tensor that records nothing, even outside inference mode.
        if (!History.ShouldRecord(self) || self._isInference) return view;
        node.SetNextEdges(self);
        return History.Set(view, node);
    }

    /// <summary>Strides for viewing (shape, strides) as newShape without copying, or null when impossible (PyTorch's computeStride).</summary>
    public static long[]? ComputeStride(long[] oldShape, long[] oldStrides, long[] newShape)
    {
        if (oldShape.Length == 0) return Enumerable.Repeat(1L, newShape.Length).ToArray();
        int numel = ShapeUtil.Numel(oldShape);
        if (numel == 0) return ShapeUtil.ContiguousStrides(newShape);
        var newStrides = new long[newShape.Length];
        int viewD = newShape.Length - 1;
        long chunkBase = oldStrides[^1];
        long tensorNumel = 1, viewNumel = 1;
        for (int d = oldShape.Length - 1; d >= 0; d--)
        {
            tensorNumel *= oldShape[d];
            if (d == 0 || (oldShape[d - 1] != 1 && oldStrides[d - 1] != tensorNumel * chunkBase))
            {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1))
                {
                    newStrides[viewD] = viewNumel * chunkBase;
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (d > 0)
                {
                    chunkBase = oldStrides[d - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        if (viewD != -1) return null;
        return newStrides;
    }

    public static Tensor View(Tensor self, long[] size)
    {
        var shape = ShapeUtil.InferSize(size, self._numel);
        var strides = ComputeStride(self._shape, self._strides, shape)
            ?? throw new InvalidOperationException(
                "view size is not compatible with input tensor's size and stride (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.");
        return Record(MakeView(self, shape, strides, self._offset), self, new ViewBackward0(self._shape));
    }

    /// <summary>
    /// reshape: a view when the strides allow (recorded as <paramref name="viewName"/>, ViewBackward0 as in PyTorch 2.x),
    /// else clone + view.
    /// </summary>
    public static Tensor Reshape(Tensor self, long[] size, string viewName = "ViewBackward0")
    {
        var shape = ShapeUtil.InferSize(size, self._numel);
        var strides = ComputeStride(self._shape, self._strides, shape);
        if (strides is not null)
            return Record(MakeView(self, shape, strides, self._offset), self, new ViewBackward0(self._shape, viewName));
        // Needs a copy: clone (CloneBackward0) then view the copy (UnsafeViewBackward0), as PyTorch records it.
        var copy = self.clone();
        var result = new Tensor(copy._storage, shape, ShapeUtil.ContiguousStrides(shape), 0);
        return Record(result, copy, new ViewBackward0(copy._shape, "UnsafeViewBackward0"));
    }

    public static Tensor Transpose(Tensor self, long dim0, long dim1, string name = "TransposeBackward0")
    {
        int rank = self._shape.Length;
        if (rank == 0) return Record(MakeView(self, self._shape, self._strides, self._offset), self, new TransposeBackward0(0, 0, name));
        int d0 = ShapeUtil.WrapDim(dim0, rank), d1 = ShapeUtil.WrapDim(dim1, rank);
        var shape = (long[])self._shape.Clone();
        var strides = (long[])self._strides.Clone();
        (shape[d0], shape[d1]) = (shape[d1], shape[d0]);
        (strides[d0], strides[d1]) = (strides[d1], strides[d0]);
        return Record(MakeView(self, shape, strides, self._offset), self, new TransposeBackward0(d0, d1, name));
    }

    public static Tensor T(Tensor self)
    {
        if (self._shape.Length > 2)
            throw new ArgumentException($"t() expects a tensor with <= 2 dimensions, but self is {self._shape.Length}D");
        if (self._shape.Length < 2)
            return Record(MakeView(self, self._shape, self._strides, self._offset), self, new TransposeBackward0(0, 0, "TBackward0"));
        return Transpose(self, 0, 1, "TBackward0");
    }

    public static Tensor Permute(Tensor self, long[] dims)
    {
        int rank = self._shape.Length;
        if (dims.Length != rank)
            throw new ArgumentException($"permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = {rank} is not equal to len(dims) = {dims.Length}");
        var shape = new long[rank];
        var strides = new long[rank];
        var seen = new bool[rank];
        var wrapped = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int d = ShapeUtil.WrapDim(dims[i], rank);
            if (seen[d]) throw new ArgumentException("permute(): duplicate dims are not allowed.");
            seen[d] = true;
            wrapped[i] = d;
            shape[i] = self._shape[d];
            strides[i] = self._strides[d];
        }
        return Record(MakeView(self, shape, strides, self._offset), self, new PermuteBackward0(wrapped));
    }

    public static Tensor Expand(Tensor self, long[] size)
    {
        if (size.Length < self._shape.Length)
            throw new ArgumentException(
                $"expand(torch.FloatTensor{{{ShapeUtil.Format(self._shape)}}}, size=[{size.Length}]): the number of sizes provided ({size.Length}) must be greater or equal to the number of dimensions in the tensor ({self._shape.Length})");
        var shape = new long[size.Length];
        int lead = size.Length - self._shape.Length;
        for (int i = 0; i < size.Length; i++)
        {
            long want = size[i];
            if (i < lead)
            {
                if (want < 0) throw new ArgumentException($"The expanded size of the tensor ({want}) isn't allowed in a leading, non-existing dimension {i}");
                shape[i] = want;
            }
            else shape[i] = want == -1 ? self._shape[i - lead] : want;
        }
        var strides = Raw.BroadcastStrides(self, shape);
        return Record(MakeView(self, shape, strides, self._offset), self, new ExpandBackward0(self._shape));
    }

    public static Tensor Squeeze(Tensor self, long? dim, string? name = null)
    {
        var shape = new List<long>();
        var strides = new List<long>();
        int rank = self._shape.Length;
        int only = dim is { } d ? (rank == 0 ? -1 : ShapeUtil.WrapDim(d, rank)) : -2;
        for (int i = 0; i < rank; i++)
        {
            bool drop = self._shape[i] == 1 && (only == -2 || only == i);
            if (!drop) { shape.Add(self._shape[i]); strides.Add(self._strides[i]); }
        }
        var view = MakeView(self, shape.ToArray(), strides.ToArray(), self._offset);
        return Record(view, self, new ViewBackward0(self._shape, name ?? (dim is null ? "SqueezeBackward0" : "SqueezeBackward1")));
    }

    public static Tensor Unsqueeze(Tensor self, long dim)
    {
        int rank = self._shape.Length;
        int d = ShapeUtil.WrapDim(dim, rank + 1);
        var shape = new long[rank + 1];
        var strides = new long[rank + 1];
        for (int i = 0, j = 0; i <= rank; i++)
        {
            if (i == d)
            {
                shape[i] = 1;
                strides[i] = j < rank ? self._shape[j] * self._strides[j] : 1;
            }
            else
            {
                shape[i] = self._shape[j];
                strides[i] = self._strides[j];
                j++;
            }
        }
        return Record(MakeView(self, shape, strides, self._offset), self, new ViewBackward0(self._shape, "UnsqueezeBackward0"));
    }

    public static Tensor Select(Tensor self, long dim, long index)
    {
        int rank = self._shape.Length;
        if (rank == 0) throw new IndexOutOfRangeException("select() cannot be applied to a 0-dim tensor.");
        int d = ShapeUtil.WrapDim(dim, rank);
        long size = self._shape[d];
        if (index < -size || index >= size)
            throw new IndexOutOfRangeException($"index {index} is out of bounds for dimension {d} with size {size}");
        if (index < 0) index += size;
        var shape = new long[rank - 1];
        var strides = new long[rank - 1];
        for (int i = 0, j = 0; i < rank; i++)
        {
            if (i == d) continue;
            shape[j] = self._shape[i];
            strides[j++] = self._strides[i];
        }
        int offset = self._offset + (int)(index * self._strides[d]);
        return Record(MakeView(self, shape, strides, offset), self, new SelectBackward0(self._shape, d, index));
    }

    /// <summary>Elements start..end (exclusive) step <paramref name="step"/> along dim, clamped as Python slicing.</summary>
    public static Tensor Slice(Tensor self, long dim, long? start, long? end, long step = 1, string name = "SliceBackward0")
    {
        int rank = self._shape.Length;
        if (rank == 0) throw new IndexOutOfRangeException("slice() cannot be applied to a 0-dim tensor.");
        if (step <= 0) throw new ArgumentException("slice step must be positive");
        int d = ShapeUtil.WrapDim(dim, rank);
        long size = self._shape[d];
        long s = start ?? 0, e = end ?? size;
        if (s < 0) s += size;
        if (e < 0) e += size;
        s = Math.Clamp(s, 0, size);
        e = Math.Clamp(e, s, size);
        var shape = (long[])self._shape.Clone();
        var strides = (long[])self._strides.Clone();
        shape[d] = (e - s + step - 1) / step;
        strides[d] *= step;
        int offset = self._offset + (int)(s * self._strides[d]);
        return Record(MakeView(self, shape, strides, offset), self, new SliceBackward0(self._shape, d, s, e, step, name));
    }

    public static Tensor Narrow(Tensor self, long dim, long start, long length)
    {
        int d = ShapeUtil.WrapDim(dim, self._shape.Length);
        long size = self._shape[d];
        if (start < 0) start += size;
        if (start < 0 || length < 0 || start + length > size)
            throw new ArgumentException($"start ({start}) + length ({length}) exceeds dimension size ({size}).");
        return Slice(self, d, start, start + length);
    }
}

/// <summary>Backward of view/reshape/squeeze/unsqueeze: reshape the gradient back.</summary>
internal sealed class ViewBackward0 : Node
{
    readonly long[] _selfShape;
    readonly string _name;
    public ViewBackward0(long[] selfShape, string name = "ViewBackward0") { _selfShape = selfShape; _name = name; }
    public override string name() => _name;
    protected internal override Tensor?[] Apply(Tensor?[] g) => new[] { g[0]!.reshape(_selfShape) };
}

/// <summary>Backward of transpose/t: transpose the gradient back.</summary>
internal sealed class TransposeBackward0 : Node
{
    readonly int _d0, _d1;
    readonly string _name;
    public TransposeBackward0(int d0, int d1, string name) { _d0 = d0; _d1 = d1; _name = name; }
    public override string name() => _name;
    protected internal override Tensor?[] Apply(Tensor?[] g) => new[] { _d0 == _d1 ? g[0] : g[0]!.transpose(_d0, _d1) };
}

/// <summary>Backward of permute: the inverse permutation.</summary>
internal sealed class PermuteBackward0 : Node
{
    readonly int[] _dims;
    public PermuteBackward0(int[] dims) => _dims = dims;
    public override string name() => "PermuteBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var inverse = new long[_dims.Length];
        for (int i = 0; i < _dims.Length; i++) inverse[_dims[i]] = i;
        return new[] { g[0]!.permute(inverse) };
    }
}

/// <summary>Backward of expand: sum over the expanded dims.</summary>
internal sealed class ExpandBackward0 : Node
{
    readonly long[] _selfShape;
    public ExpandBackward0(long[] selfShape) => _selfShape = selfShape;
    public override string name() => "ExpandBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g) => new[] { g[0]!.SumToSize(_selfShape) };
}

/// <summary>Backward of select: scatter the gradient into zeros at the index.</summary>
internal sealed class SelectBackward0 : Node
{
    readonly long[] _selfShape;
    readonly int _dim;
    readonly long _index;
    public SelectBackward0(long[] selfShape, int dim, long index) { _selfShape = selfShape; _dim = dim; _index = index; }
    public override string name() => "SelectBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g) => new[] { ScatterBack.Select(g[0]!, _selfShape, _dim, _index) };
}

/// <summary>Backward of slicing/narrow: place the gradient into zeros over the slice.</summary>
internal sealed class SliceBackward0 : Node
{
    readonly long[] _selfShape;
    readonly int _dim;
    readonly long _start, _end, _step;
    readonly string _name;
    public SliceBackward0(long[] selfShape, int dim, long start, long end, long step, string name)
    {
        _selfShape = selfShape; _dim = dim; _start = start; _end = end; _step = step; _name = name;
    }
    public override string name() => _name;
    protected internal override Tensor?[] Apply(Tensor?[] g) => new[] { ScatterBack.Slice(g[0]!, _selfShape, _dim, _start, _end, _step) };
}

/// <summary>
/// select_backward / slice_backward as differentiable ops: zeros of the input shape with the gradient written into
/// the selected region. Their own backward is the forward selection again.
/// </summary>
internal static class ScatterBack
{
    public static Tensor Select(Tensor grad, long[] shape, int dim, long index)
    {
        var result = new Tensor(grad.Backend, grad._dtype, shape, zero: true);
        using (torch.no_grad()) Raw.CopyInto(Views.Select(result, dim, index), grad);
        if (History.ShouldRecord(grad))
        {
            var node = new SelectBackwardBackward(dim, index);
            node.SetNextEdges(grad);
            History.Set(result, node);
        }
        return result;
    }

    public static Tensor Slice(Tensor grad, long[] shape, int dim, long start, long end, long step)
    {
        var result = new Tensor(grad.Backend, grad._dtype, shape, zero: true);
        using (torch.no_grad()) Raw.CopyInto(Views.Slice(result, dim, start, end, step), grad);
        if (History.ShouldRecord(grad))
        {
            var node = new SliceBackwardBackward(dim, start, end, step);
            node.SetNextEdges(grad);
            History.Set(result, node);
        }
        return result;
    }
}

internal sealed class SelectBackwardBackward : Node
{
    readonly int _dim; readonly long _index;
    public SelectBackwardBackward(int dim, long index) { _dim = dim; _index = index; }
    public override string name() => "SelectBackwardBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g) => new[] { g[0]!.select(_dim, _index) };
}

internal sealed class SliceBackwardBackward : Node
{
    readonly int _dim; readonly long _start, _end, _step;
    public SliceBackwardBackward(int dim, long start, long end, long step) { _dim = dim; _start = start; _end = end; _step = step; }
    public override string name() => "SliceBackwardBackward0";
    protected internal override Tensor?[] Apply(Tensor?[] g) => new[] { Views.Slice(g[0]!, _dim, _start, _end, _step) };
}
