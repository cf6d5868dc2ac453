using Nabla.Ops;

namespace Nabla;

// Reductions beyond sum/mean, softmax, and joining/gathering ops (Ops/MinMax.cs, Ops/Statistics.cs, Ops/Softmax.cs,
// Ops/Joining.cs, Ops/GatherScatter.cs).
public sealed partial class Tensor
{
    // ---- max / min ------------------------------------------------------------------------------------------

    /// <summary>The largest element, as a 0-d tensor (MaxBackward1: tied maxima share the gradient evenly). NaN wins.</summary>
    /// <exception cref="InvalidOperationException">The tensor is empty.</exception>
    public Tensor max() => MinMax.All(this, true);
    /// <summary>The smallest element, as a 0-d tensor (MinBackward1: ties share the gradient evenly). NaN wins.</summary>
    /// <exception cref="InvalidOperationException">The tensor is empty.</exception>
    public Tensor min() => MinMax.All(this, false);
    /// <summary>Largest values along <paramref name="dim"/> and their (first) int64 indices (MaxBackward0 on the values).</summary>
    public (Tensor values, Tensor indices) max(long dim, bool keepdim = false) => MinMax.Dim(this, dim, keepdim, true);
    /// <summary>Smallest values along <paramref name="dim"/> and their (first) int64 indices (MinBackward0 on the values).</summary>
    public (Tensor values, Tensor indices) min(long dim, bool keepdim = false) => MinMax.Dim(this, dim, keepdim, false);
    /// <summary>Index of the (first) largest element of the flattened tensor, or along <paramref name="dim"/>; int64.</summary>
    public Tensor argmax(long? dim = null, bool keepdim = false) => MinMax.Arg(this, dim, keepdim, true);
    /// <summary>Index of the (first) smallest element of the flattened tensor, or along <paramref name="dim"/>; int64.</summary>
    public Tensor argmin(long? dim = null, bool keepdim = false) => MinMax.Arg(this, dim, keepdim, false);
    /// <summary>Maximum over <paramref name="dim"/> (AmaxBackward0: ties share the gradient evenly).</summary>
    public Tensor amax(long dim, bool keepdim = false) => MinMax.Amax(this, new[] { dim }, keepdim, true);
    /// <summary>Maximum over several dims; all dims when null or empty (AmaxBackward0).</summary>
    public Tensor amax(long[]? dim = null, bool keepdim = false) => MinMax.Amax(this, dim ?? System.Array.Empty<long>(), keepdim, true);
    /// <summary>Minimum over <paramref name="dim"/> (AminBackward0: ties share the gradient evenly).</summary>
    public Tensor amin(long dim, bool keepdim = false) => MinMax.Amax(this, new[] { dim }, keepdim, false);
    /// <summary>Minimum over several dims; all dims when null or empty (AminBackward0).</summary>
    public Tensor amin(long[]? dim = null, bool keepdim = false) => MinMax.Amax(this, dim ?? System.Array.Empty<long>(), keepdim, false);

    // ---- statistics -----------------------------------------------------------------------------------------

    /// <summary>Product of all elements (ProdBackward0, correct with zeros); integers give int64.</summary>
    public Tensor prod(ScalarType? dtype = null) => Statistics.Prod(this, null, false, dtype);
    /// <summary>Product along <paramref name="dim"/> (ProdBackward1).</summary>
    public Tensor prod(long dim, bool keepdim = false, ScalarType? dtype = null) => Statistics.Prod(this, dim, keepdim, dtype);
    /// <summary>The same as the <c>long dim</c> overload; it exists because C# converts a literal <c>0</c> to an enum, so
    /// without it <c>x.prod(0)</c> would bind to the <c>dtype</c> overload instead of reducing dimension 0.</summary>
    public Tensor prod(int dim, bool keepdim = false, ScalarType? dtype = null) => prod((long)dim, keepdim, dtype);

    /// <summary>Variance of all elements, Bessel-corrected when <paramref name="unbiased"/> (VarBackward0).</summary>
    public Tensor var(bool unbiased = true) => Statistics.VarStd(this, null, unbiased ? 1 : 0, false, false);
    /// <summary>Variance along <paramref name="dim"/> (VarBackward0).</summary>
    public Tensor var(long dim, bool unbiased = true, bool keepdim = false) => Statistics.VarStd(this, new[] { dim }, unbiased ? 1 : 0, keepdim, false);
    /// <summary>Variance over several dims (all when empty) (VarBackward0).</summary>
    public Tensor var(long[] dim, bool unbiased = true, bool keepdim = false) => Statistics.VarStd(this, dim, unbiased ? 1 : 0, keepdim, false);
    /// <summary>Variance with divisor N - <paramref name="correction"/> over dims (all when null) (VarBackward0).</summary>
    public Tensor var(long[]? dim, long correction, bool keepdim = false) => Statistics.VarStd(this, dim, correction, keepdim, false);

    /// <summary>Standard deviation of all elements (StdBackward0).</summary>
    public Tensor std(bool unbiased = true) => Statistics.VarStd(this, null, unbiased ? 1 : 0, false, true);
    /// <summary>Standard deviation along <paramref name="dim"/> (StdBackward0).</summary>
    public Tensor std(long dim, bool unbiased = true, bool keepdim = false) => Statistics.VarStd(this, new[] { dim }, unbiased ? 1 : 0, keepdim, true);
    /// <summary>Standard deviation over several dims (all when empty) (StdBackward0).</summary>
    public Tensor std(long[] dim, bool unbiased = true, bool keepdim = false) => Statistics.VarStd(this, dim, unbiased ? 1 : 0, keepdim, true);
    /// <summary>Standard deviation with divisor N - <paramref name="correction"/> (StdBackward0).</summary>
    public Tensor std(long[]? dim, long correction, bool keepdim = false) => Statistics.VarStd(this, dim, correction, keepdim, true);

    /// <summary>log(sum(exp(x))) along <paramref name="dim"/>, computed stably (LogsumexpBackward0).</summary>
    public Tensor logsumexp(long dim, bool keepdim = false) => Statistics.LogSumExp(this, new[] { dim }, keepdim);
    /// <summary>log(sum(exp(x))) over several dims (LogsumexpBackward0).</summary>
    public Tensor logsumexp(long[] dim, bool keepdim = false) => Statistics.LogSumExp(this, dim, keepdim);

    /// <summary>The p-norm of all elements (NormBackward1; gradient 0 where the norm is 0).</summary>
    public Tensor norm(double p = 2) => Statistics.Norm(this, p, null, false);
    /// <summary>The p-norm along <paramref name="dim"/> (NormBackward1).</summary>
    public Tensor norm(long dim, bool keepdim = false, double p = 2) => Statistics.Norm(this, p, new[] { dim }, keepdim);
    /// <summary>The p-norm over several dims (NormBackward1).</summary>
    public Tensor norm(long[] dim, bool keepdim = false, double p = 2) => Statistics.Norm(this, p, dim, keepdim);

    /// <summary>Running sum along <paramref name="dim"/> (CumsumBackward0); integers accumulate in int64.</summary>
    public Tensor cumsum(long dim, ScalarType? dtype = null) => Statistics.Cumsum(this, dim, dtype);

    // ---- softmax --------------------------------------------------------------------------------------------

    /// <summary>exp(x) / sum(exp(x)) along <paramref name="dim"/>, computed stably (SoftmaxBackward0).</summary>
    public Tensor softmax(long dim, ScalarType? dtype = null) => Softmax.Forward(this, dim, dtype, false);
    /// <summary>x - logsumexp(x) along <paramref name="dim"/>, computed stably (LogSoftmaxBackward0).</summary>
    public Tensor log_softmax(long dim, ScalarType? dtype = null) => Softmax.Forward(this, dim, dtype, true);

    // ---- splitting, tiling, flipping ----------------------------------------------------------------------------

    /// <summary>Views of <paramref name="split_size"/> elements along dim, the last possibly smaller (SplitBackward0).</summary>
    public Tensor[] split(long split_size, long dim = 0) => Joining.Split(this, split_size, dim);
    /// <summary>Views of the given sizes along dim; they must sum to the dim's size (SplitWithSizesBackward0).</summary>
    public Tensor[] split(long[] split_sizes, long dim = 0) => Joining.SplitWithSizes(this, split_sizes, dim);
    /// <summary>Views of the given sizes along dim (SplitWithSizesBackward0).</summary>
    public Tensor[] split_with_sizes(long[] split_sizes, long dim = 0) => Joining.SplitWithSizes(this, split_sizes, dim);
    /// <summary>At most <paramref name="chunks"/> equal views along dim, the last smaller (SplitBackward0).</summary>
    public Tensor[] chunk(long chunks, long dim = 0) => Joining.Chunk(this, chunks, dim);
    /// <summary>The slices along dim, which is removed (UnbindBackward0).</summary>
    public Tensor[] unbind(long dim = 0) => Joining.Unbind(this, dim);
    /// <summary>Tiles the tensor along each dim; extra leading repeats add dims (RepeatBackward0).</summary>
    public Tensor repeat(params long[] repeats) => Joining.Repeat(this, repeats);
    /// <summary>Reverses the elements along the given dims (FlipBackward0).</summary>
    public Tensor flip(params long[] dims) => Joining.Flip(this, dims);

    // ---- gathering and scattering -----------------------------------------------------------------------------

    /// <summary>Values picked along <paramref name="dim"/> by the int64 <paramref name="index"/>, shaped as index (GatherBackward0).</summary>
    public Tensor gather(long dim, Tensor index) => GatherScatter.Gather(this, dim, index);
    /// <summary>A copy with src's values written at the indexed places along dim (ScatterBackward0).</summary>
    public Tensor scatter(long dim, Tensor index, Tensor src) => GatherScatter.Scatter(this, dim, index, src);
    /// <summary>A copy with <paramref name="value"/> written at the indexed places along dim (ScatterBackward1).</summary>
    public Tensor scatter(long dim, Tensor index, Scalar value) => GatherScatter.Scatter(this, dim, index, value);
    /// <summary>A copy with src's values added at the indexed places along dim (ScatterAddBackward0).</summary>
    public Tensor scatter_add(long dim, Tensor index, Tensor src) => GatherScatter.ScatterAdd(this, dim, index, src);
    /// <summary>The slices at the int32/int64 indices along dim (IndexSelectBackward0).</summary>
    public Tensor index_select(long dim, Tensor index) => GatherScatter.IndexSelect(this, dim, index);
    /// <summary>A copy with <paramref name="value"/> where the (broadcast) mask is true (MaskedFillBackward0).</summary>
    public Tensor masked_fill(Tensor mask, Scalar value) => GatherScatter.MaskedFill(this, mask, value);
    /// <summary>A copy with a 0-d tensor's value where the mask is true (MaskedFillBackward1).</summary>
    public Tensor masked_fill(Tensor mask, Tensor value) => GatherScatter.MaskedFill(this, mask, value);
}
