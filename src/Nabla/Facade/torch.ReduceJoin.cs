using Nabla.Ops;

namespace Nabla;

// torch.* forms of the reductions, softmax and joining/gathering ops (Tensor.ReduceJoin.cs has the methods).
public static partial class torch
{
    /// <summary>The largest element of <paramref name="input"/> (MaxBackward1).</summary>
    public static Tensor max(Tensor input) => input.max();
    /// <summary>Largest values along <paramref name="dim"/> and their indices (MaxBackward0).</summary>
    public static (Tensor values, Tensor indices) max(Tensor input, long dim, bool keepdim = false) => input.max(dim, keepdim);
    /// <summary>The smallest element of <paramref name="input"/> (MinBackward1).</summary>
    public static Tensor min(Tensor input) => input.min();
    /// <summary>Smallest values along <paramref name="dim"/> and their indices (MinBackward0).</summary>
    public static (Tensor values, Tensor indices) min(Tensor input, long dim, bool keepdim = false) => input.min(dim, keepdim);
    /// <summary>Index of the largest element (flattened, or along <paramref name="dim"/>).</summary>
    public static Tensor argmax(Tensor input, long? dim = null, bool keepdim = false) => input.argmax(dim, keepdim);
    /// <summary>Index of the smallest element (flattened, or along <paramref name="dim"/>).</summary>
    public static Tensor argmin(Tensor input, long? dim = null, bool keepdim = false) => input.argmin(dim, keepdim);
    /// <summary>Maximum over <paramref name="dim"/> (AmaxBackward0).</summary>
    public static Tensor amax(Tensor input, long dim, bool keepdim = false) => input.amax(dim, keepdim);
    /// <summary>Maximum over several dims, all when null (AmaxBackward0).</summary>
    public static Tensor amax(Tensor input, long[]? dim = null, bool keepdim = false) => input.amax(dim, keepdim);
    /// <summary>Minimum over <paramref name="dim"/> (AminBackward0).</summary>
    public static Tensor amin(Tensor input, long dim, bool keepdim = false) => input.amin(dim, keepdim);
    /// <summary>Minimum over several dims, all when null (AminBackward0).</summary>
    public static Tensor amin(Tensor input, long[]? dim = null, bool keepdim = false) => input.amin(dim, keepdim);
    /// <summary>Product of all elements (ProdBackward0).</summary>
    public static Tensor prod(Tensor input, ScalarType? dtype = null) => input.prod(dtype);
    /// <summary>Product along <paramref name="dim"/> (ProdBackward1).</summary>
    public static Tensor prod(Tensor input, long dim, bool keepdim = false, ScalarType? dtype = null) => input.prod(dim, keepdim, dtype);
    /// <summary>The same as the <c>long dim</c> overload; it exists because C# converts a literal <c>0</c> to an enum, so
    /// without it <c>torch.prod(x, 0)</c> would bind to the <c>dtype</c> overload instead of reducing dimension 0.</summary>
    public static Tensor prod(Tensor input, int dim, bool keepdim = false, ScalarType? dtype = null) => input.prod((long)dim, keepdim, dtype);
    /// <summary>Variance of all elements (VarBackward0).</summary>
    public static Tensor var(Tensor input, bool unbiased = true) => input.var(unbiased);
    /// <summary>Variance along <paramref name="dim"/> (VarBackward0).</summary>
    public static Tensor var(Tensor input, long dim, bool unbiased = true, bool keepdim = false) => input.var(dim, unbiased, keepdim);
    /// <summary>Variance over several dims (VarBackward0).</summary>
    public static Tensor var(Tensor input, long[] dim, bool unbiased = true, bool keepdim = false) => input.var(dim, unbiased, keepdim);
    /// <summary>Variance with divisor N - <paramref name="correction"/> (VarBackward0).</summary>
    public static Tensor var(Tensor input, long[]? dim, long correction, bool keepdim = false) => input.var(dim, correction, keepdim);
    /// <summary>Standard deviation of all elements (StdBackward0).</summary>
    public static Tensor std(Tensor input, bool unbiased = true) => input.std(unbiased);
    /// <summary>Standard deviation along <paramref name="dim"/> (StdBackward0).</summary>
    public static Tensor std(Tensor input, long dim, bool unbiased = true, bool keepdim = false) => input.std(dim, unbiased, keepdim);
    /// <summary>Standard deviation over several dims (StdBackward0).</summary>
    public static Tensor std(Tensor input, long[] dim, bool unbiased = true, bool keepdim = false) => input.std(dim, unbiased, keepdim);
    /// <summary>Standard deviation with divisor N - <paramref name="correction"/> (StdBackward0).</summary>
    public static Tensor std(Tensor input, long[]? dim, long correction, bool keepdim = false) => input.std(dim, correction, keepdim);
    /// <summary>log(sum(exp(x))) along <paramref name="dim"/> (LogsumexpBackward0).</summary>
    public static Tensor logsumexp(Tensor input, long dim, bool keepdim = false) => input.logsumexp(dim, keepdim);
    /// <summary>log(sum(exp(x))) over several dims (LogsumexpBackward0).</summary>
    public static Tensor logsumexp(Tensor input, long[] dim, bool keepdim = false) => input.logsumexp(dim, keepdim);
    /// <summary>The p-norm of all elements (NormBackward1).</summary>
    public static Tensor norm(Tensor input, double p = 2) => input.norm(p);
    /// <summary>The p-norm along <paramref name="dim"/> (NormBackward1).</summary>
    public static Tensor norm(Tensor input, long dim, bool keepdim = false, double p = 2) => input.norm(dim, keepdim, p);
    /// <summary>Running sum along <paramref name="dim"/> (CumsumBackward0).</summary>
    public static Tensor cumsum(Tensor input, long dim, ScalarType? dtype = null) => input.cumsum(dim, dtype);
    /// <summary>Softmax along <paramref name="dim"/> (SoftmaxBackward0).</summary>
    public static Tensor softmax(Tensor input, long dim, ScalarType? dtype = null) => input.softmax(dim, dtype);
    /// <summary>Log-softmax along <paramref name="dim"/> (LogSoftmaxBackward0).</summary>
    public static Tensor log_softmax(Tensor input, long dim, ScalarType? dtype = null) => input.log_softmax(dim, dtype);

    /// <summary>Concatenates tensors along an existing dim in the promoted dtype (CatBackward0).</summary>
    /// <exception cref="InvalidOperationException">Empty list, 0-d inputs, or shapes differing outside <paramref name="dim"/>.</exception>
    public static Tensor cat(Tensor[] tensors, long dim = 0) => Joining.Cat(tensors, dim);
    /// <summary>Alias of <see cref="cat(Tensor[], long)"/>.</summary>
    public static Tensor concat(Tensor[] tensors, long dim = 0) => Joining.Cat(tensors, dim);
    /// <summary>Stacks equal-shaped tensors along a new dim (StackBackward0).</summary>
    public static Tensor stack(Tensor[] tensors, long dim = 0) => Joining.Stack(tensors, dim);
    /// <summary>Views of <paramref name="split_size"/> elements along dim (SplitBackward0).</summary>
    public static Tensor[] split(Tensor input, long split_size, long dim = 0) => input.split(split_size, dim);
    /// <summary>Views of the given sizes along dim (SplitWithSizesBackward0).</summary>
    public static Tensor[] split(Tensor input, long[] split_sizes, long dim = 0) => input.split(split_sizes, dim);
    /// <summary>At most <paramref name="chunks"/> equal views along dim (SplitBackward0).</summary>
    public static Tensor[] chunk(Tensor input, long chunks, long dim = 0) => input.chunk(chunks, dim);
    /// <summary>The slices along dim (UnbindBackward0).</summary>
    public static Tensor[] unbind(Tensor input, long dim = 0) => input.unbind(dim);
    /// <summary>Reverses the elements along the given dims (FlipBackward0).</summary>
    public static Tensor flip(Tensor input, params long[] dims) => input.flip(dims);
    /// <summary>Values picked along dim by an int64 index (GatherBackward0).</summary>
    public static Tensor gather(Tensor input, long dim, Tensor index) => input.gather(dim, index);
    /// <summary>Copy of input with src written at the indexed places (ScatterBackward0).</summary>
    public static Tensor scatter(Tensor input, long dim, Tensor index, Tensor src) => input.scatter(dim, index, src);
    /// <summary>Copy of input with a value written at the indexed places (ScatterBackward1).</summary>
    public static Tensor scatter(Tensor input, long dim, Tensor index, Scalar value) => input.scatter(dim, index, value);
    /// <summary>Copy of input with src added at the indexed places (ScatterAddBackward0).</summary>
    public static Tensor scatter_add(Tensor input, long dim, Tensor index, Tensor src) => input.scatter_add(dim, index, src);
    /// <summary>The slices at the given indices along dim (IndexSelectBackward0).</summary>
    public static Tensor index_select(Tensor input, long dim, Tensor index) => input.index_select(dim, index);
    /// <summary>Copy of input with a value where the mask is true (MaskedFillBackward0).</summary>
    public static Tensor masked_fill(Tensor input, Tensor mask, Scalar value) => input.masked_fill(mask, value);
}
