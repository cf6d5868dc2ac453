using Nabla.Autograd;

namespace Nabla.Ops;

// Note [Everyday ops as composites]
// tril/triu, diag/diagonal/trace, roll, repeat_interleave, movedim/swapaxes (issue 12) are composites of existing
// tensor ops (Note [The backend wall]): the forward runs untracked over public tensor ops on the input's device, and
// the op records PyTorch's own node (TrilBackward0, RollBackward0, ...) whose backward is again differentiable tensor
// code, so gradgrad works. Ops that are views in PyTorch (diagonal, movedim, swapaxes) are views here too.

/// <summary>Shape and structure ops of issue 12 (Note [Everyday ops as composites]).</summary>
internal static class Structure
{
    /// <summary>Runs <paramref name="forward"/> without recording, then records <paramref name="node"/> on the result when any input records.</summary>
    internal static Tensor Composite(Func<Tensor> forward, Func<FnNode> node, params Tensor?[] inputs)
    {
        Tensor result;
        using (new GradModeScope(false)) result = forward();
        bool record = false;
        foreach (var t in inputs) record |= t is not null && History.ShouldRecord(t);
        if (!record) return result;
        var n = node();
        n.SetNextEdges(inputs);
        return History.Set(result, n);
    }

    static Tensor Arange(long n, Tensor like) => torch.arange(0, n, 1, ScalarType.Int64, device: like.device);

    static Tensor TriMask(Tensor x, long diagonal, bool lower)
    {
        long rows = x._shape[^2], cols = x._shape[^1];
        var diff = Arange(cols, x) - Arange(rows, x).unsqueeze(1);  // col - row
        return lower ? diff.gt(diagonal) : diff.lt(diagonal);       // the elements zeroed
    }

    /// <summary>The lower (or upper) triangle of the last two dims; the rest zeroed (TrilBackward0 / TriuBackward0).</summary>
    public static Tensor Tri(Tensor x, long diagonal, bool lower)
    {
        string op = lower ? "tril" : "triu";
        if (x._shape.Length < 2) throw new ArgumentException($"{op}: input tensor must have at least 2 dimensions");
        return Composite(
            () => x._numel == 0 ? x.clone() : x.masked_fill(TriMask(x, diagonal, lower), 0),
            () => new FnNode(lower ? "TrilBackward0" : "TriuBackward0", System.Array.Empty<Tensor>(),
                (g, _) => new[] { Tri(g, diagonal, lower) }),
            x);
    }

    static (long size, int offset) DiagonalGeometry(long[] shape, long[] strides, int baseOffset, long offset, int d1, int d2)
    {
        long size;
        long start = baseOffset;
        if (offset >= 0)
        {
            size = Math.Max(Math.Min(shape[d1], shape[d2] - offset), 0);
            if (size > 0) start += offset * strides[d2];
        }
        else
        {
            size = Math.Max(Math.Min(shape[d1] + offset, shape[d2]), 0);
            if (size > 0) start -= offset * strides[d1];
        }
        return (size, (int)start);
    }

    static (int d1, int d2) DiagonalDims(int rank, long dim1, long dim2)
    {
        int d1 = ShapeUtil.WrapDim(dim1, rank), d2 = ShapeUtil.WrapDim(dim2, rank);
        if (d1 == d2) throw new ArgumentException($"diagonal dimensions cannot be identical {dim1}, {dim2}");
        return (d1, d2);
    }

    /// <summary>A view of the diagonal of dims (dim1, dim2) as the last dim (DiagonalBackward0).</summary>
    public static Tensor Diagonal(Tensor x, long offset, long dim1, long dim2)
    {
        int rank = x._shape.Length;
        var (d1, d2) = DiagonalDims(rank, dim1, dim2);
        var (size, start) = DiagonalGeometry(x._shape, x._strides, x._offset, offset, d1, d2);
        var shape = new List<long>();
        var strides = new List<long>();
        for (int i = 0; i < rank; i++)
            if (i != d1 && i != d2) { shape.Add(x._shape[i]); strides.Add(x._strides[i]); }
        shape.Add(size);
        strides.Add(x._strides[d1] + x._strides[d2]);
        var view = Views.MakeView(x, shape.ToArray(), strides.ToArray(), start);
        if (!History.ShouldRecord(x)) return view;
        var inputShape = x._shape;
        var node = new FnNode("DiagonalBackward0", System.Array.Empty<Tensor>(),
            (g, _) => new[] { DiagonalEmbed(g, inputShape, offset, d1, d2) });
        node.SetNextEdges(x);
        return History.Set(view, node);
    }

    /// <summary>
    /// Zeros of <paramref name="shape"/> with <paramref name="grad"/> written on the (offset, d1, d2) diagonal: PyTorch's
    /// diagonal_backward, recorded as DiagonalBackwardBackward0 (its own backward takes the diagonal again).
    /// </summary>
    public static Tensor DiagonalEmbed(Tensor grad, long[] shape, long offset, int d1, int d2) =>
        Composite(
            () =>
            {
                var r = torch.zeros(shape, grad._dtype, device: grad.device);
                var (size, start) = DiagonalGeometry(r._shape, r._strides, r._offset, offset, d1, d2);
                if (size > 0 && grad._numel > 0)
                {
                    var diag = Diagonal(r, offset, d1, d2);
                    Raw.CopyInto(diag, grad);
                }
                return r;
            },
            () => new FnNode("DiagonalBackwardBackward0", System.Array.Empty<Tensor>(),
                (g, _) => new[] { Diagonal(g, offset, d1, d2) }),
            grad);

    /// <summary>diag: a 1-D input becomes a square matrix with it on the diagonal; a 2-D input gives its diagonal (DiagBackward0).</summary>
    public static Tensor Diag(Tensor x, long diagonal)
    {
        int rank = x._shape.Length;
        if (rank != 1 && rank != 2) throw new ArgumentException($"diag(): Supports 1D or 2D tensors. Got {rank}D");
        var inputShape = x._shape;
        if (rank == 1)
        {
            long n = x._shape[0] + Math.Abs(diagonal);
            return Composite(
                () => DiagonalEmbed(x, new[] { n, n }, diagonal, 0, 1),
                () => new FnNode("DiagBackward0", System.Array.Empty<Tensor>(), (g, _) => new[] { Diagonal(g, diagonal, 0, 1) }),
                x);
        }
        return Composite(
            () => Diagonal(x, diagonal, 0, 1).clone(),
            () => new FnNode("DiagBackward0", System.Array.Empty<Tensor>(), (g, _) => new[] { DiagonalEmbed(g, inputShape, diagonal, 0, 1) }),
            x);
    }

    /// <summary>The sum of a matrix's main diagonal (TraceBackward0).</summary>
    public static Tensor Trace(Tensor x)
    {
        if (x._shape.Length != 2) throw new ArgumentException($"trace: expected a matrix, but got tensor with dim {x._shape.Length}");
        var inputShape = x._shape;
        long n = Math.Min(inputShape[0], inputShape[1]);
        return Composite(
            () => Diagonal(x, 0, 0, 1).sum(),
            () => new FnNode("TraceBackward0", System.Array.Empty<Tensor>(),
                (g, _) => new[] { DiagonalEmbed(g.expand(n), inputShape, 0, 0, 1) }),
            x);
    }

    /// <summary>Rolls elements along <paramref name="dims"/> (all elements, flattened, when none) (RollBackward0).</summary>
    public static Tensor Roll(Tensor x, long[] shifts, long[] dims)
    {
        if (shifts.Length == 0) throw new ArgumentException("`shifts` required");
        if (dims.Length == 0 && shifts.Length != 1)
            throw new ArgumentException($"shifts and dimensions must align. shifts: {shifts.Length}, dims:{dims.Length}");
        if (dims.Length != 0 && shifts.Length != dims.Length)
            throw new ArgumentException($"shifts and dimensions must align. shifts: {shifts.Length}, dims:{dims.Length}");
        var wrapped = new long[dims.Length];
        for (int i = 0; i < dims.Length; i++) wrapped[i] = ShapeUtil.WrapDim(dims[i], x._shape.Length);
        var negShifts = shifts.Select(s => -s).ToArray();
        return Composite(
            () =>
            {
                if (dims.Length == 0) return RollDim(x.flatten(), shifts[0], 0).view(x._shape);
                var r = x;
                for (int i = 0; i < wrapped.Length; i++) r = RollDim(r, shifts[i], (int)wrapped[i]);
                return ReferenceEquals(r, x) ? x.clone() : r;
            },
            () => new FnNode("RollBackward0", System.Array.Empty<Tensor>(), (g, _) => new[] { Roll(g, negShifts, wrapped) }),
            x);
    }

    static Tensor RollDim(Tensor x, long shift, int dim)
    {
        long n = x._shape.Length == 0 ? 1 : x._shape[dim];
        if (n == 0 || x._shape.Length == 0) return x.clone();
        long s = ((shift % n) + n) % n;
        if (s == 0) return x.clone();
        return torch.cat(new[] { x.narrow(dim, n - s, s), x.narrow(dim, 0, n - s) }, dim);
    }

    /// <summary>
    /// Repeats each element <paramref name="repeats"/> times along <paramref name="dim"/> (flattened when null):
    /// PyTorch 1.13's composite, an index_select with the repeated indices (IndexSelectBackward0).
    /// </summary>
    public static Tensor RepeatInterleave(Tensor x, long repeats, long? dim)
    {
        if (repeats < 0) throw new ArgumentException("repeats can not be negative");
        var input = dim is null ? x.flatten() : x;
        int d = dim is null ? 0 : ShapeUtil.WrapDim(dim.Value, Math.Max(x._shape.Length, 1));
        if (input._shape.Length == 0) input = input.reshape(1);
        long n = input._shape[d];
        Tensor index;
        using (new GradModeScope(false))
            index = Arange(n, x).unsqueeze(1).expand(n, repeats).reshape(n * repeats);
        return input.index_select(d, index);
    }

    /// <summary>Moves dims <paramref name="source"/> to positions <paramref name="destination"/> (a permute view).</summary>
    public static Tensor Movedim(Tensor x, long[] source, long[] destination)
    {
        int rank = x._shape.Length;
        if (source.Length != destination.Length)
            throw new ArgumentException(
                $"movedim: Invalid source or destination dims: source ({ShapeUtil.Format(source)} dims) should contain the same number of dims as destination ({ShapeUtil.Format(destination)} dims)");
        var src = source.Select(s => ShapeUtil.WrapDim(s, Math.Max(rank, 1))).ToArray();
        var dst = destination.Select(s => ShapeUtil.WrapDim(s, Math.Max(rank, 1))).ToArray();
        if (src.Distinct().Count() != src.Length) throw new ArgumentException($"movedim: repeated dim in `source` ({ShapeUtil.Format(source)})");
        if (dst.Distinct().Count() != dst.Length) throw new ArgumentException($"movedim: repeated dim in `destination` ({ShapeUtil.Format(destination)})");
        if (rank == 0) return x.permute();
        var perm = new long[rank];
        Array.Fill(perm, -1);
        for (int i = 0; i < src.Length; i++) perm[dst[i]] = src[i];
        var rest = Enumerable.Range(0, rank).Where(i => !src.Contains(i)).GetEnumerator();
        for (int i = 0; i < rank; i++)
            if (perm[i] == -1) { rest.MoveNext(); perm[i] = rest.Current; }
        return x.permute(perm);
    }
}

/// <summary>
/// A node with a PyTorch name whose backward is a closure of differentiable tensor code over saved tensors
/// (Note [Everyday ops as composites]).
/// </summary>
// Kept as a Node: the generic closure node of the composite ops (Structure.Composite); to become Rules.
internal sealed class FnNode : Node
{
    readonly string _name;
    readonly SavedTensor[] _saved;
    readonly Func<Tensor, Tensor[], Tensor?[]> _backward;

    public FnNode(string name, Tensor[] saved, Func<Tensor, Tensor[], Tensor?[]> backward, Tensor? savedOutput = null)
    {
        _name = name;
        _saved = new SavedTensor[saved.Length + (savedOutput is null ? 0 : 1)];
        for (int i = 0; i < saved.Length; i++) _saved[i] = new SavedTensor(saved[i]);
        if (savedOutput is not null) _saved[^1] = new SavedTensor(savedOutput, isOutput: true);
        _backward = backward;
    }

    public override string name() => _name;

    protected internal override Tensor?[] Apply(Tensor?[] g)
    {
        var saved = new Tensor[_saved.Length];
        for (int i = 0; i < saved.Length; i++) saved[i] = _saved[i].Unpack(this);
        var grads = _backward(g[0]!, saved);
        for (int i = 0; i < grads.Length && i < NextEdges.Length; i++)
            if (NextEdges[i].Node is null) grads[i] = null;
        return grads;
    }

    protected internal override void ReleaseVariables()
    {
        for (int i = 0; i < _saved.Length; i++) _saved[i].Release();
    }
}
