namespace Nabla.Backends;

// Gather/scatter along a dim, index_select, masked_fill and advanced indexing (Note [The backend wall]). Index values
// are data: validating them (PyTorch's out-of-range messages) happens here, with the element access. The op checks
// dtypes and shapes, computes the result shape and allocates it.
internal abstract partial class Backend
{
    /// <summary>
    /// dst[p] = self[p with its <paramref name="dim"/> coordinate replaced by index[p]] for every position p of index
    /// (int64, shaped as dst; self of dst's dtype). An out-of-range index throws PyTorch's message.
    /// </summary>
    public abstract void Gather(in Operand dst, in Operand self, in Operand index, int dim);

    /// <summary>
    /// dst[p with its <paramref name="dim"/> coordinate replaced by index[p]] = src[p] (<see cref="ScatterMode.Src"/>),
    /// = <paramref name="value"/> (<see cref="ScatterMode.Value"/>; src is <c>default</c>) or += src[p]
    /// (<see cref="ScatterMode.Add"/>), for every position p of index (int64); later writes win in index order.
    /// </summary>
    public abstract void Scatter(ScatterMode mode, in Operand dst, in Operand index, in Operand src, int dim, Scalar value);

    /// <summary>
    /// dst = the slices of self at the positions of index (1-D or 0-d int64) along <paramref name="dim"/>; throws
    /// PyTorch's "index out of range in self" before writing anything.
    /// </summary>
    public abstract void IndexSelect(in Operand dst, in Operand self, in Operand index, int dim);

    /// <summary>dst = src with <paramref name="value"/> where mask (bool, src's shape, any strides) is true.</summary>
    public abstract void MaskedFill(in Operand dst, in Operand src, in Operand mask, Scalar value);

    /// <summary>
    /// Advanced indexing read (Note [Advanced indexing layout]): dst (dense, the indexing result's shape) = src at the
    /// positions named by <paramref name="indices"/>: one index operand (int64) per leading dim of src, <c>default</c>
    /// for a dim that is not indexed. Index values are checked against the dim sizes (negative ones wrap).
    /// </summary>
    public abstract void IndexGather(in Operand dst, in Operand src, Operand[] indices);

    /// <summary>
    /// Advanced indexing write: values (the indexing result's shape, dst's dtype) stored into dst at the positions named
    /// by <paramref name="indices"/> (as <see cref="IndexGather"/>); with <paramref name="accumulate"/> repeats add up.
    /// </summary>
    public abstract void IndexScatter(in Operand dst, Operand[] indices, in Operand values, bool accumulate);

    /// <summary>The number of true elements of a bool operand (a value read on the host).</summary>
    public abstract int CountNonzero(in Operand mask);

    /// <summary>
    /// dst (int64, [rank of mask, count]) = the coordinates of mask's true elements in row-major order, row d holding
    /// the dim-d coordinates (the transpose of <c>torch.nonzero</c>).
    /// </summary>
    public abstract void NonzeroPerDim(in Operand dst, in Operand mask);
}

/// <summary>What <see cref="Backend.Scatter"/> writes.</summary>
internal enum ScatterMode { Src = 1, Value = 2, Add = 3 }
