using Nabla.Ops;

namespace Nabla;

// Everyday tensor ops of issue 12 (Ops/Structure.cs, Ops/Sorting.cs, Ops/Pointwise.cs).
public sealed partial class Tensor
{
    // ---- shape and structure ------------------------------------------------------------------------------------

    /// <summary>The lower triangle of the last two dims (elements above <paramref name="diagonal"/> zeroed) (TrilBackward0).</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dims.</exception>
    public Tensor tril(long diagonal = 0) => Structure.Tri(this, diagonal, lower: true);

    /// <summary>The upper triangle of the last two dims (elements below <paramref name="diagonal"/> zeroed) (TriuBackward0).</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dims.</exception>
    public Tensor triu(long diagonal = 0) => Structure.Tri(this, diagonal, lower: false);

    /// <summary>A view of the diagonal of dims (<paramref name="dim1"/>, <paramref name="dim2"/>), appended as the last dim (DiagonalBackward0).</summary>
    public Tensor diagonal(long offset = 0, long dim1 = 0, long dim2 = 1) => Structure.Diagonal(this, offset, dim1, dim2);

    /// <summary>A 1-D tensor as a diagonal matrix, or a 2-D tensor's diagonal as a 1-D tensor (DiagBackward0).</summary>
    public Tensor diag(long diagonal = 0) => Structure.Diag(this, diagonal);

    /// <summary>The sum of a matrix's main diagonal (TraceBackward0).</summary>
    public Tensor trace() => Structure.Trace(this);

    /// <summary>Rolls the flattened elements by <paramref name="shifts"/> (RollBackward0).</summary>
    public Tensor roll(long shifts) => Structure.Roll(this, new[] { shifts }, System.Array.Empty<long>());

    /// <summary>Rolls the elements along <paramref name="dims"/> by <paramref name="shifts"/> (RollBackward0).</summary>
    public Tensor roll(long shifts, long dims) => Structure.Roll(this, new[] { shifts }, new[] { dims });

    /// <summary>Rolls the elements along each of <paramref name="dims"/> by the matching shift (RollBackward0).</summary>
    public Tensor roll(long[] shifts, long[] dims) => Structure.Roll(this, shifts, dims);

    /// <summary>Repeats each element <paramref name="repeats"/> times along <paramref name="dim"/> (the flattened tensor when null).</summary>
    public Tensor repeat_interleave(long repeats, long? dim = null) => Structure.RepeatInterleave(this, repeats, dim);

    /// <summary>Moves dim <paramref name="source"/> to position <paramref name="destination"/> (a permute view).</summary>
    public Tensor movedim(long source, long destination) => Structure.Movedim(this, new[] { source }, new[] { destination });

    /// <summary>Moves dims <paramref name="source"/> to positions <paramref name="destination"/> (a permute view).</summary>
    public Tensor movedim(long[] source, long[] destination) => Structure.Movedim(this, source, destination);

    /// <summary>Alias of <see cref="movedim(long, long)"/>.</summary>
    public Tensor moveaxis(long source, long destination) => movedim(source, destination);

    /// <summary>Alias of <see cref="movedim(long[], long[])"/>.</summary>
    public Tensor moveaxis(long[] source, long[] destination) => movedim(source, destination);

    /// <summary>Alias of <see cref="transpose(long, long)"/> (TransposeBackward0).</summary>
    public Tensor swapaxes(long axis0, long axis1) => transpose(axis0, axis1);

    /// <summary>Alias of <see cref="transpose(long, long)"/> (TransposeBackward0).</summary>
    public Tensor swapdims(long dim0, long dim1) => transpose(dim0, dim1);
}

public sealed partial class Tensor
{
    // ---- sorting and scans --------------------------------------------------------------------------------------

    /// <summary>
    /// The elements sorted along <paramref name="dim"/> and the int64 indices they came from (SortBackward0). Nabla's
    /// sort is always stable; NaN sorts as the largest value.
    /// </summary>
    public (Tensor values, Tensor indices) sort(long dim = -1, bool descending = false) => Sorting.Sort(this, dim, descending, null);

    /// <summary>The stable sort overload (<c>sort(stable=..., dim, descending)</c>; SortBackward1).</summary>
    public (Tensor values, Tensor indices) sort(bool stable, long dim = -1, bool descending = false) => Sorting.Sort(this, dim, descending, stable);

    /// <summary>The indices that sort the elements along <paramref name="dim"/> (stable).</summary>
    public Tensor argsort(long dim = -1, bool descending = false) => Sorting.Sort(this, dim, descending, null).indices;

    /// <summary>The elements sorted along dim 0 (SortBackward0).</summary>
    public Tensor msort() => Sorting.Sort(this, 0, false, null).values;

    /// <summary>The <paramref name="k"/> largest (or smallest) elements along <paramref name="dim"/> and their indices, sorted (TopkBackward0).</summary>
    /// <exception cref="ArgumentException"><paramref name="k"/> is negative or larger than the dim.</exception>
    public (Tensor values, Tensor indices) topk(long k, long dim = -1, bool largest = true, bool sorted = true) =>
        Sorting.Topk(this, k, dim, largest, sorted);

    /// <summary>The running maximum along <paramref name="dim"/> and the indices it came from (CummaxBackward0).</summary>
    public (Tensor values, Tensor indices) cummax(long dim) => Sorting.CumMaxMin(this, dim, true);

    /// <summary>The running minimum along <paramref name="dim"/> and the indices it came from (CumminBackward0).</summary>
    public (Tensor values, Tensor indices) cummin(long dim) => Sorting.CumMaxMin(this, dim, false);
}

public sealed partial class Tensor
{
    // ---- elementwise --------------------------------------------------------------------------------------------

    /// <summary>log(exp(this) + exp(other)), computed without overflow (LogaddexpBackward0).</summary>
    public Tensor logaddexp(Tensor other) => Pointwise.Logaddexp(this, other);

    /// <summary>this + weight * (end - this) (LerpBackward0).</summary>
    public Tensor lerp(Tensor end, double weight) => Pointwise.Lerp(this, end, weight);

    /// <summary>this + weight * (end - this), elementwise weights (LerpBackward1).</summary>
    public Tensor lerp(Tensor end, Tensor weight) => Pointwise.Lerp(this, end, weight);

    /// <summary>this + value * tensor1 * tensor2 (AddcmulBackward0).</summary>
    public Tensor addcmul(Tensor tensor1, Tensor tensor2, Scalar? value = null) => Pointwise.Addcmul(this, tensor1, tensor2, value ?? 1);

    /// <summary>this + value * tensor1 / tensor2 (AddcdivBackward0).</summary>
    /// <exception cref="InvalidOperationException">Both tensors are integer (PyTorch's removed integer addcdiv).</exception>
    public Tensor addcdiv(Tensor tensor1, Tensor tensor2, Scalar? value = null) => Pointwise.Addcdiv(this, tensor1, tensor2, value ?? 1);

    /// <summary>A bool tensor, true where the element is NaN.</summary>
    public Tensor isnan() => Pointwise.IsNan(this);

    /// <summary>A bool tensor, true where the element is infinite.</summary>
    public Tensor isinf() => Pointwise.IsInf(this);

    /// <summary>A bool tensor, true where the element is finite.</summary>
    public Tensor isfinite() => Pointwise.IsFinite(this);
}
