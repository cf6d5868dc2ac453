using Nabla.Autograd;

namespace Nabla.Ops;

/// <summary>cat, stack, split/chunk/unbind (views sharing one node), repeat and flip.</summary>
internal static class Joining
{
    // repeat: the gradient viewed as [r0, s0, r1, s1, ...] summed over the repeat dims (args: the repeats).
    static readonly Rule RepeatRule = Rule.Unary("RepeatBackward0", Needs.None, static (g, s) =>
    {
        var repeats = (long[])s.Args!;
        var selfShape = s.SelfShape;
        int n = repeats.Length, lead = n - selfShape.Length;
        var shape = new long[2 * n];
        var dims = new long[n];
        for (int i = 0; i < n; i++)
        {
            shape[2 * i] = repeats[i];
            shape[2 * i + 1] = i < lead ? 1 : selfShape[i - lead];
            dims[i] = 2 * i;
        }
        if (g._numel == 0) return torch.zeros(selfShape, g._dtype, device: g.device);
        return g.reshape(shape).sum(dims).reshape(selfShape);
    });
    // flip: flip the gradient back (args: the wrapped dims).
    static readonly Rule FlipRule = Rule.Unary("FlipBackward0", Needs.None, static (g, s) => g.flip((long[])s.Args!));

    /// <summary>A raw view of elements [start, start + length) along <paramref name="dim"/> (no autograd, no base).</summary>
    internal static Tensor NarrowRaw(Tensor t, int dim, long start, long length)
    {
        var shape = (long[])t._shape.Clone();
        shape[dim] = length;
        return new Tensor(t._storage, shape, (long[])t._strides.Clone(), t._offset + (int)(start * t._strides[dim]));
    }

    /// <summary>A raw view of index <paramref name="index"/> along <paramref name="dim"/>, which is removed.</summary>
    internal static Tensor SelectRaw(Tensor t, int dim, long index)
    {
        int rank = t._shape.Length;
        var shape = new long[rank - 1];
        var strides = new long[rank - 1];
        for (int i = 0, j = 0; i < rank; i++)
        {
            if (i == dim) continue;
            shape[j] = t._shape[i];
            strides[j++] = t._strides[i];
        }
        return new Tensor(t._storage, shape, strides, t._offset + (int)(index * t._strides[dim]));
    }

    /// <summary>Inserts a size-1 dim at <paramref name="dim"/> without recording.</summary>
    static Tensor UnsqueezeRaw(Tensor t, int dim)
    {
        var shape = new List<long>(t._shape);
        var strides = new List<long>(t._strides);
        shape.Insert(dim, 1);
        strides.Insert(dim, dim < t._shape.Length ? t._shape[dim] * t._strides[dim] : 1);
        return new Tensor(t._storage, shape.ToArray(), strides.ToArray(), t._offset);
    }

    // PyTorch keeps a legacy rule: 1-D empty tensors are skipped by cat whatever the other shapes are.
    static bool Skipped(Tensor t) => t._shape.Length == 1 && t._shape[0] == 0;

    /// <summary>Concatenation along <paramref name="dim"/> in the promoted dtype (CatBackward0).</summary>
    public static Tensor Cat(Tensor[] tensors, long dim)
    {
        if (tensors.Length == 0) throw new InvalidOperationException("torch.cat(): expected a non-empty list of Tensors");
        Tensor? reference = null;
        var dtype = tensors[0]._dtype;
        for (int i = 0; i < tensors.Length; i++)
        {
            var t = tensors[i];
            if (t._shape.Length == 0) throw new InvalidOperationException($"zero-dimensional tensor (at position {i}) cannot be concatenated");
            dtype = ScalarTypeExtensions.Promote(dtype, t._dtype);
            if (reference is null && !Skipped(t)) reference = t;
        }
        reference ??= tensors[0];
        int rank = reference._shape.Length;
        int d = ShapeUtil.WrapDim(dim, rank);
        long total = 0;
        for (int i = 0; i < tensors.Length; i++)
        {
            var t = tensors[i];
            if (!ReferenceEquals(t._storage.Backend, reference._storage.Backend))
                throw Raw.DeviceMismatch(reference._storage.Device, t._storage.Device);
            if (Skipped(t) && !ReferenceEquals(t, reference)) continue;
            if (t._shape.Length != rank)
                throw new InvalidOperationException($"Tensors must have same number of dimensions: got {rank} and {t._shape.Length}");
            for (int k = 0; k < rank; k++)
                if (k != d && t._shape[k] != reference._shape[k])
                    throw new InvalidOperationException(
                        $"Sizes of tensors must match except in dimension {d}. Expected size {reference._shape[k]} but got size {t._shape[k]} for tensor number {i} in the list.");
            total += t._shape[d];
        }
        var shape = (long[])reference._shape.Clone();
        shape[d] = total;
        var result = Tensor.EmptyLike(reference, dtype, shape);
        long offset = 0;
        foreach (var t in tensors)
        {
            if (Skipped(t) && !ReferenceEquals(t, reference)) continue;
            long size = t._shape[d];
            if (size > 0) Raw.CopyInto(NarrowRaw(result, d, offset, size), t);
            offset += size;
        }
        if (History.ShouldRecord(tensors))
        {
            var node = new CatBackward0(tensors, d, reference);
            node.SetNextEdges(tensors);
            History.Set(result, node);
        }
        return result;
    }

    /// <summary>Stacks equal-shaped tensors along a new dim (StackBackward0).</summary>
    public static Tensor Stack(Tensor[] tensors, long dim)
    {
        if (tensors.Length == 0) throw new InvalidOperationException("stack expects a non-empty TensorList");
        var first = tensors[0];
        int d = ShapeUtil.WrapDim(dim, first._shape.Length + 1);
        for (int i = 1; i < tensors.Length; i++)
            if (!Tensor.ShapesEqual(tensors[i], first))
                throw new InvalidOperationException(
                    $"stack expects each tensor to be equal size, but got {ShapeUtil.Format(first._shape)} at entry 0 and {ShapeUtil.Format(tensors[i]._shape)} at entry {i}");
        var expanded = new Tensor[tensors.Length];
        for (int i = 0; i < tensors.Length; i++) expanded[i] = UnsqueezeRaw(tensors[i], d);
        Tensor result;
        using (torch.no_grad()) result = Cat(expanded, d);
        if (History.ShouldRecord(tensors))
        {
            // As PyTorch: an inference tensor in the TensorList of a recorded stack fails (test_inference_mode).
            foreach (var t in tensors)
                if (t._isInference && !Autograd.GradMode.IsInferenceMode)
                    throw new InvalidOperationException(
                        "Inference tensors cannot be saved for backward. To work around you can make a clone to get a normal tensor and use it in autograd.");
            var node = new StackBackward0(tensors, d);
            node.SetNextEdges(tensors);
            History.Set(result, node);
        }
        return result;
    }

    /// <summary>Views of consecutive pieces of the given sizes along dim, sharing one multi-output node.</summary>
    static Tensor[] SplitViews(Tensor self, long[] sizes, int d, string name)
    {
        var outputs = new Tensor[sizes.Length];
        long start = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            var v = NarrowRaw(self, d, start, sizes[i]);
            v._base = self._base ?? self;
            v._isInference = self._isInference;
            outputs[i] = v;
            start += sizes[i];
        }
        if (History.ShouldRecord(self))
        {
            var node = new SplitBackward(name, self, d);
            node.SetNextEdges(self);
            History.Set(outputs, node);
        }
        return outputs;
    }

    static int SplitDim(Tensor self, long dim)
    {
        if (self._shape.Length == 0) throw new InvalidOperationException("split expects at least a 1-dimensional tensor");
        return ShapeUtil.WrapDim(dim, self._shape.Length);
    }

    /// <summary>Pieces of <paramref name="splitSize"/> along dim, the last possibly smaller (SplitBackward0).</summary>
    public static Tensor[] Split(Tensor self, long splitSize, long dim)
    {
        int d = SplitDim(self, dim);
        long size = self._shape[d];
        if (splitSize < 0) throw new InvalidOperationException($"split expects split_size be non-negative, but got split_size={splitSize}");
        if (splitSize == 0 && size != 0)
            throw new InvalidOperationException($"split_size can only be 0 if dimension size is 0, but got dimension size of {size}");
        long count = splitSize == 0 ? 1 : Math.Max((size + splitSize - 1) / splitSize, 1);
        var sizes = new long[count];
        for (long i = 0; i < count; i++) sizes[i] = Math.Min(splitSize, size - i * splitSize);
        return SplitViews(self, sizes, d, "SplitBackward0");
    }

    /// <summary>Pieces of the given sizes along dim (SplitWithSizesBackward0).</summary>
    public static Tensor[] SplitWithSizes(Tensor self, long[] sizes, long dim)
    {
        int d = SplitDim(self, dim);
        long sum = 0;
        foreach (var s in sizes)
        {
            if (s < 0) throw new InvalidOperationException($"split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes={ShapeUtil.Format(sizes)}");
            sum += s;
        }
        if (sum != self._shape[d])
            throw new InvalidOperationException(
                $"split_with_sizes expects split_sizes to sum exactly to {self._shape[d]} (input tensor's size at dimension {d}), but got split_sizes={ShapeUtil.Format(sizes)}");
        return SplitViews(self, (long[])sizes.Clone(), d, "SplitWithSizesBackward0");
    }

    /// <summary>At most <paramref name="chunks"/> pieces of equal size (the last smaller) along dim (SplitBackward0).</summary>
    public static Tensor[] Chunk(Tensor self, long chunks, long dim)
    {
        if (self._shape.Length == 0) throw new InvalidOperationException("chunk expects at least a 1-dimensional tensor");
        if (chunks <= 0) throw new InvalidOperationException($"chunk expects `chunks` to be greater than 0, got: {chunks}");
        int d = ShapeUtil.WrapDim(dim, self._shape.Length);
        long size = self._shape[d];
        long splitSize = (size + chunks - 1) / chunks;
        if (splitSize == 0 && size == 0)
        {
            var sizes = new long[chunks];
            return SplitViews(self, sizes, d, "SplitWithSizesBackward0");
        }
        return Split(self, splitSize, d);
    }

    /// <summary>The slices along dim, which is removed (UnbindBackward0).</summary>
    public static Tensor[] Unbind(Tensor self, long dim)
    {
        if (self._shape.Length == 0) throw new IndexOutOfRangeException("Dimension specified as 0 but tensor has no dimensions");
        int d = ShapeUtil.WrapDim(dim, self._shape.Length);
        var outputs = new Tensor[self._shape[d]];
        for (int i = 0; i < outputs.Length; i++)
        {
            var v = SelectRaw(self, d, i);
            v._base = self._base ?? self;
            v._isInference = self._isInference;
            outputs[i] = v;
        }
        if (History.ShouldRecord(self))
        {
            var node = new UnbindBackward0(self, d);
            node.SetNextEdges(self);
            History.Set(outputs, node);
        }
        return outputs;
    }

    /// <summary>Tiles the tensor <paramref name="repeats"/> times along each dim (RepeatBackward0).</summary>
    public static Tensor Repeat(Tensor self, long[] repeats)
    {
        int rank = self._shape.Length;
        if (repeats.Length < rank)
            throw new InvalidOperationException("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor");
        int n = repeats.Length, lead = n - rank;
        var outShape = new long[n];
        // Read the input as [r0, s0, r1, s1, ...] with stride 0 on the repeat dims, write it contiguously.
        var interleavedShape = new long[2 * n];
        var interleavedStrides = new long[2 * n];
        for (int i = 0; i < n; i++)
        {
            long s = i < lead ? 1 : self._shape[i - lead];
            if (repeats[i] < 0)
                throw new InvalidOperationException($"Trying to create tensor with negative dimension {repeats[i]}: {ShapeUtil.Format(repeats)}");
            outShape[i] = s * repeats[i];
            interleavedShape[2 * i] = repeats[i];
            interleavedShape[2 * i + 1] = s;
            interleavedStrides[2 * i + 1] = i < lead ? 0 : self._strides[i - lead];
        }
        var result = Tensor.EmptyLike(self, self._dtype, outShape);
        if (result._numel > 0)
        {
            var src = new Tensor(self._storage, interleavedShape, interleavedStrides, self._offset);
            var dst = new Tensor(result._storage, interleavedShape, ShapeUtil.ContiguousStrides(interleavedShape), 0);
            Raw.CopyInto(dst, src);
        }
        return RepeatRule.Record(result, self, args: (long[])repeats.Clone());
    }

    /// <summary>Reverses the order of elements along each of <paramref name="dims"/> (FlipBackward0).</summary>
    public static Tensor Flip(Tensor self, long[] dims)
    {
        int rank = self._shape.Length;
        var mask = new bool[Math.Max(rank, 1)];
        var wrapped = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            int d = ShapeUtil.WrapDim(dims[i], rank);
            if (mask[d]) throw new InvalidOperationException($"dim {d} appears multiple times in the list of dims");
            mask[d] = true;
            wrapped[i] = d;
        }
        var strides = (long[])self._strides.Clone();
        long offset = self._offset;
        for (int d = 0; d < rank; d++)
        {
            if (!mask[d] || self._shape[d] == 0) continue;
            offset += (self._shape[d] - 1) * strides[d];
            strides[d] = -strides[d];
        }
        var result = Tensor.EmptyLike(self, self._dtype, self._shape);
        if (result._numel > 0) Raw.CopyInto(result, new Tensor(self._storage, self._shape, strides, (int)offset));
        return FlipRule.Record(result, self, args: System.Array.ConvertAll(wrapped, d => (long)d));
    }
}

/// <summary>Backward of cat: each input receives its slice of the gradient.</summary>
// Kept as a Node: any number of inputs (a Rule has one to three).
internal sealed class CatBackward0 : Node
{
    readonly long[][] _shapes;
    readonly bool[] _skipped;
    readonly int _dim;

    public CatBackward0(Tensor[] tensors, int dim, Tensor reference)
    {
        _dim = dim;
        _shapes = new long[tensors.Length][];
        _skipped = new bool[tensors.Length];
        for (int i = 0; i < tensors.Length; i++)
        {
            _shapes[i] = tensors[i]._shape;
            _skipped[i] = !ReferenceEquals(tensors[i], reference) && tensors[i]._shape.Length == 1 && tensors[i]._shape[0] == 0;
        }
    }

    public override string name() => "CatBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var grad = g[0]!;
        var result = new Tensor?[_shapes.Length];
        long offset = 0;
        for (int i = 0; i < _shapes.Length; i++)
        {
            if (_skipped[i])
            {
                if (NeedsInputGrad(i)) result[i] = torch.zeros(_shapes[i], grad._dtype, device: grad.device);
                continue;
            }
            long size = _shapes[i][_dim];
            if (NeedsInputGrad(i)) result[i] = grad.narrow(_dim, offset, size);
            offset += size;
        }
        return result;
    }
}

/// <summary>Backward of stack: input i receives the gradient's slice i along the new dim.</summary>
// Kept as a Node: any number of inputs.
internal sealed class StackBackward0 : Node
{
    readonly ScalarType[] _types;
    readonly int _dim;

    public StackBackward0(Tensor[] tensors, int dim)
    {
        _dim = dim;
        _types = new ScalarType[tensors.Length];
        for (int i = 0; i < tensors.Length; i++) _types[i] = tensors[i]._dtype;
    }

    public override string name() => "StackBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var result = new Tensor?[_types.Length];
        for (int i = 0; i < result.Length; i++)
            if (NeedsInputGrad(i)) result[i] = g[0]!.select(_dim, i);
        return result;
    }
}

/// <summary>Backward of split/chunk: the pieces' gradients (zeros for pieces that got none) concatenated.</summary>
// Kept as a Node: multi-output.
internal sealed class SplitBackward : Node
{
    readonly string _name;
    readonly int _dim;
    readonly ScalarType _selfType;
    readonly Device _device;

    public SplitBackward(string name, Tensor self, int dim) { _name = name; _dim = dim; _selfType = self._dtype; _device = self.device; }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var pieces = new Tensor[g.Length];
        for (int i = 0; i < g.Length; i++) pieces[i] = g[i] ?? torch.zeros(OutputShapes[i], _selfType, device: _device);
        return new[] { torch.cat(pieces, _dim) };
    }
}

/// <summary>Backward of unbind: the slices' gradients (zeros where none) stacked.</summary>
// Kept as a Node: multi-output.
internal sealed class UnbindBackward0 : Node
{
    readonly int _dim;
    readonly long[] _selfShape;
    readonly ScalarType _selfType;
    readonly Device _device;

    public UnbindBackward0(Tensor self, int dim) { _dim = dim; _selfShape = self._shape; _selfType = self._dtype; _device = self.device; }

    public override string name() => "UnbindBackward0";

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        if (g.Length == 0) return new[] { torch.zeros(_selfShape, _selfType, device: _device) };
        var pieces = new Tensor[g.Length];
        for (int i = 0; i < g.Length; i++) pieces[i] = g[i] ?? torch.zeros(OutputShapes[i], _selfType, device: _device);
        return new[] { torch.stack(pieces, _dim) };
    }
}
