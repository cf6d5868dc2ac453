namespace Nabla;

// torch.* forms of the everyday tensor ops of issue 12 (Tensor.Everyday.cs has the methods).
public static partial class torch
{
    // ---- shape and structure ------------------------------------------------------------------------------------

    /// <summary>The lower triangle of the last two dims of <paramref name="input"/> (TrilBackward0).</summary>
    public static Tensor tril(Tensor input, long diagonal = 0) => input.tril(diagonal);

    /// <summary>The upper triangle of the last two dims of <paramref name="input"/> (TriuBackward0).</summary>
    public static Tensor triu(Tensor input, long diagonal = 0) => input.triu(diagonal);

    /// <summary>A view of a diagonal of <paramref name="input"/> (DiagonalBackward0).</summary>
    public static Tensor diagonal(Tensor input, long offset = 0, long dim1 = 0, long dim2 = 1) => input.diagonal(offset, dim1, dim2);

    /// <summary>A 1-D tensor as a diagonal matrix, or a matrix's diagonal (DiagBackward0).</summary>
    public static Tensor diag(Tensor input, long diagonal = 0) => input.diag(diagonal);

    /// <summary>The sum of the main diagonal of a matrix (TraceBackward0).</summary>
    public static Tensor trace(Tensor input) => input.trace();

    /// <summary>Rolls the flattened elements of <paramref name="input"/> (RollBackward0).</summary>
    public static Tensor roll(Tensor input, long shifts) => input.roll(shifts);

    /// <summary>Rolls <paramref name="input"/> along <paramref name="dims"/> (RollBackward0).</summary>
    public static Tensor roll(Tensor input, long shifts, long dims) => input.roll(shifts, dims);

    /// <summary>Rolls <paramref name="input"/> along each of <paramref name="dims"/> (RollBackward0).</summary>
    public static Tensor roll(Tensor input, long[] shifts, long[] dims) => input.roll(shifts, dims);

    /// <summary>Repeats each element of <paramref name="input"/> <paramref name="repeats"/> times along <paramref name="dim"/>.</summary>
    public static Tensor repeat_interleave(Tensor input, long repeats, long? dim = null) => input.repeat_interleave(repeats, dim);

    /// <summary>Moves a dim of <paramref name="input"/> (a permute view).</summary>
    public static Tensor movedim(Tensor input, long source, long destination) => input.movedim(source, destination);

    /// <summary>Moves dims of <paramref name="input"/> (a permute view).</summary>
    public static Tensor movedim(Tensor input, long[] source, long[] destination) => input.movedim(source, destination);

    /// <summary>Alias of <see cref="movedim(Tensor, long, long)"/>.</summary>
    public static Tensor moveaxis(Tensor input, long source, long destination) => input.movedim(source, destination);

    /// <summary>Swaps two dims of <paramref name="input"/> (TransposeBackward0).</summary>
    public static Tensor swapaxes(Tensor input, long axis0, long axis1) => input.transpose(axis0, axis1);

    /// <summary>Swaps two dims of <paramref name="input"/> (TransposeBackward0).</summary>
    public static Tensor swapdims(Tensor input, long dim0, long dim1) => input.transpose(dim0, dim1);
}

public static partial class torch
{
    // ---- sorting and scans --------------------------------------------------------------------------------------

    /// <summary>Sorted values and indices of <paramref name="input"/> along <paramref name="dim"/> (SortBackward0; stable).</summary>
    public static (Tensor values, Tensor indices) sort(Tensor input, long dim = -1, bool descending = false) => input.sort(dim, descending);

    /// <summary>The stable sort overload (SortBackward1).</summary>
    public static (Tensor values, Tensor indices) sort(Tensor input, bool stable, long dim = -1, bool descending = false) => input.sort(stable, dim, descending);

    /// <summary>The indices that sort <paramref name="input"/> along <paramref name="dim"/>.</summary>
    public static Tensor argsort(Tensor input, long dim = -1, bool descending = false) => input.argsort(dim, descending);

    /// <summary><paramref name="input"/> sorted along dim 0.</summary>
    public static Tensor msort(Tensor input) => input.msort();

    /// <summary>The <paramref name="k"/> largest (or smallest) elements of <paramref name="input"/> and their indices (TopkBackward0).</summary>
    public static (Tensor values, Tensor indices) topk(Tensor input, long k, long dim = -1, bool largest = true, bool sorted = true) =>
        input.topk(k, dim, largest, sorted);

    /// <summary>The running maximum of <paramref name="input"/> along <paramref name="dim"/> (CummaxBackward0).</summary>
    public static (Tensor values, Tensor indices) cummax(Tensor input, long dim) => input.cummax(dim);

    /// <summary>The running minimum of <paramref name="input"/> along <paramref name="dim"/> (CumminBackward0).</summary>
    public static (Tensor values, Tensor indices) cummin(Tensor input, long dim) => input.cummin(dim);
}

public static partial class torch
{
    // ---- elementwise --------------------------------------------------------------------------------------------

    /// <summary>log(exp(input) + exp(other)) (LogaddexpBackward0).</summary>
    public static Tensor logaddexp(Tensor input, Tensor other) => input.logaddexp(other);

    /// <summary>input + weight * (end - input) (LerpBackward0).</summary>
    public static Tensor lerp(Tensor input, Tensor end, double weight) => input.lerp(end, weight);

    /// <summary>input + weight * (end - input), elementwise weights (LerpBackward1).</summary>
    public static Tensor lerp(Tensor input, Tensor end, Tensor weight) => input.lerp(end, weight);

    /// <summary>input + value * tensor1 * tensor2 (AddcmulBackward0).</summary>
    public static Tensor addcmul(Tensor input, Tensor tensor1, Tensor tensor2, Scalar? value = null) => input.addcmul(tensor1, tensor2, value);

    /// <summary>input + value * tensor1 / tensor2 (AddcdivBackward0).</summary>
    public static Tensor addcdiv(Tensor input, Tensor tensor1, Tensor tensor2, Scalar? value = null) => input.addcdiv(tensor1, tensor2, value);

    /// <summary>True where <paramref name="input"/> is NaN.</summary>
    public static Tensor isnan(Tensor input) => input.isnan();

    /// <summary>True where <paramref name="input"/> is infinite.</summary>
    public static Tensor isinf(Tensor input) => input.isinf();

    /// <summary>True where <paramref name="input"/> is finite.</summary>
    public static Tensor isfinite(Tensor input) => input.isfinite();
}
