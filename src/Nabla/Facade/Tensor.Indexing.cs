using Nabla.Ops;

namespace Nabla;

// Indexing as TorchSharp spells Python's x[...]: see Note [Indexing] in Ops/Indexing.cs.
//
// Note [Wrapped numbers]
// `x[0] = 5` needs a Tensor on the right (an indexer has one value type), so numbers convert implicitly to 0-d
// tensors, as in TorchSharp. Like PyTorch's wrapped numbers (`is_wrapped_number`) they remember that they came from a
// number: index_put_ then converts them to the destination dtype instead of requiring equal dtypes. Overloads taking
// a Scalar still win over those taking a Tensor, because Scalar converts implicitly to Tensor and not back.

public sealed partial class Tensor
{
    internal bool _wrappedNumber;

    static Tensor WrappedNumber(Scalar value)
    {
        var dtype = value.Kind switch
        {
            ScalarType.Bool => ScalarType.Bool,
            ScalarType.Int64 => ScalarType.Int64,
            _ => ScalarType.Float64,
        };
        var t = new Tensor(dtype, System.Array.Empty<long>());
        t.FillUnchecked(value);
        t._wrappedNumber = true;
        return t;
    }

    /// <summary>A 0-d tensor holding the number (float64, int64 or bool by the scalar's kind).</summary>
    public static implicit operator Tensor(Scalar value) => WrappedNumber(value);

    /// <summary>A 0-d float64 tensor.</summary>
    public static implicit operator Tensor(double value) => WrappedNumber(value);

    /// <summary>A 0-d float32 tensor.</summary>
    public static implicit operator Tensor(float value)
    {
        var t = new Tensor(ScalarType.Float32, System.Array.Empty<long>());
        t.FillUnchecked(value);
        t._wrappedNumber = true;
        return t;
    }

    /// <summary>A 0-d int64 tensor.</summary>
    public static implicit operator Tensor(long value) => WrappedNumber(value);

    /// <summary>A 0-d int64 tensor.</summary>
    public static implicit operator Tensor(int value) => WrappedNumber(value);

    /// <summary>A 0-d bool tensor.</summary>
    public static implicit operator Tensor(bool value) => WrappedNumber(value);

    static TensorIndex[] ToIndices(long[] indices)
    {
        var result = new TensorIndex[indices.Length];
        for (int i = 0; i < indices.Length; i++) result[i] = TensorIndex.Single(indices[i]);
        return result;
    }

    static TensorIndex[] ToIndices(Tensor[] indices)
    {
        var result = new TensorIndex[indices.Length];
        for (int i = 0; i < indices.Length; i++) result[i] = TensorIndex.Tensor(indices[i]);
        return result;
    }

    /// <summary>
    /// <c>x[i, j, ...]</c> with integers (negative counts from the end): a view without the indexed dims
    /// (SelectBackward0). Assigning writes the value (broadcast, converted) into that view in place.
    /// </summary>
    /// <exception cref="IndexOutOfRangeException">An index is out of bounds, or there are more indices than dims.</exception>
    public Tensor this[params long[] indices]
    {
        get => Indexing.Index(this, ToIndices(indices));
        set => Indexing.SetItem(this, ToIndices(indices), value);
    }

    /// <summary>
    /// <c>x[...]</c> with any mix of integers, slices, C# ranges (<c>1..3</c>, <c>^1</c>), <see cref="TensorIndex.Colon"/>,
    /// <see cref="TensorIndex.Ellipsis"/>, <see cref="TensorIndex.None"/>, booleans and index tensors / bool masks,
    /// with PyTorch's semantics: integers, slices and None give views (SelectBackward0, SliceBackward0,
    /// UnsqueezeBackward0); index tensors gather a copy (IndexBackward0), broadcast together, their result dims placed
    /// where the indexed dims were when those are adjacent and first otherwise. Assigning is PyTorch's setitem:
    /// copy into the view, or <c>index_put_</c> with index tensors; recorded as CopySlices / IndexPutBackward0.
    /// </summary>
    /// <exception cref="IndexOutOfRangeException">Out-of-bounds index, too many indices, a mask of the wrong shape, or an index tensor of a non-integer dtype.</exception>
    public Tensor this[params TensorIndex[] indices]
    {
        get => Indexing.Index(this, indices);
        set => Indexing.SetItem(this, indices, value);
    }

    /// <summary><c>x[idx0, idx1, ...]</c> with index tensors (int64/int32 positions or bool masks): advanced indexing.</summary>
    public Tensor this[params Tensor[] indices]
    {
        get => Indexing.Index(this, ToIndices(indices));
        set => Indexing.SetItem(this, ToIndices(indices), value);
    }

    /// <summary>The same as the indexer <c>x[indices]</c> (TorchSharp's method form).</summary>
    public Tensor index(params TensorIndex[] indices) => Indexing.Index(this, indices);

    /// <summary>Advanced indexing by index tensors, one per leading dim (the same as <c>x[indices]</c>).</summary>
    public Tensor index(params Tensor[] indices) => Indexing.Index(this, ToIndices(indices));

    /// <summary>
    /// Writes <paramref name="value"/> into <c>x[indices]</c> in place and returns this tensor (TorchSharp's form of setitem).
    /// </summary>
    public Tensor index_put_(Tensor value, params TensorIndex[] indices)
    {
        Indexing.SetItem(this, indices, value);
        return this;
    }

    /// <summary>Writes the number into <c>x[indices]</c> in place and returns this tensor.</summary>
    public Tensor index_put_(Scalar value, params TensorIndex[] indices)
    {
        Indexing.SetItem(this, indices, WrappedNumber(value));
        return this;
    }

    /// <summary>
    /// PyTorch's <c>index_put_(indices, values, accumulate)</c>: <c>self[indices] = values</c> with one index tensor (or
    /// null for a whole dim) per leading dim; with <paramref name="accumulate"/>, values at repeated indices add up
    /// (<c>self[indices] += values</c> that counts duplicates). Values must have this tensor's dtype (numbers convert)
    /// and broadcast to the indexing result. Recorded as IndexPutBackward0.
    /// </summary>
    public Tensor index_put_(Tensor?[] indices, Tensor values, bool accumulate = false) =>
        Indexing.IndexPutInplace(this, indices, values, accumulate);

    /// <summary>Out-of-place <see cref="index_put_(Tensor?[], Tensor, bool)"/>: a copy with the values written (IndexPutBackward0).</summary>
    public Tensor index_put(Tensor?[] indices, Tensor values, bool accumulate = false) =>
        Indexing.IndexPut(this, Indexing.IndexPutIndices(this, indices), values, accumulate);
}
