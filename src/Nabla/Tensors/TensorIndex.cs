namespace Nabla;

/// <summary>
/// One entry of an index expression, as TorchSharp spells Python's <c>x[0, 1:3, None, ..., mask]</c>:
/// an integer (<see cref="Single"/>), a slice (<see cref="Slice"/>, <see cref="Colon"/>), <see cref="Ellipsis"/>,
/// a new axis (<see cref="None"/>), a boolean (<see cref="Bool"/>) or an index tensor (<see cref="Tensor"/>: int64/int32
/// indices or a bool mask). Integers, C# ranges and indices (<c>1..3</c>, <c>..</c>, <c>^1</c>), booleans and tensors
/// convert implicitly, so <c>x[.., 0..1]</c> and <c>x[TensorIndex.Colon, 0, TensorIndex.None]</c> both work.
/// </summary>
public sealed class TensorIndex
{
    /// <summary>What kind of index this is.</summary>
    public enum Type
    {
        /// <summary><c>None</c>: inserts a new axis of size 1.</summary>
        None,
        /// <summary><c>...</c>: as many full slices as needed.</summary>
        Ellipsis,
        /// <summary>An integer: selects one position and removes the axis.</summary>
        Single,
        /// <summary><c>True</c>/<c>False</c>: a new axis of size 1 (True) or 0 (False).</summary>
        Bool,
        /// <summary><c>start:stop:step</c>.</summary>
        Slice,
        /// <summary>An integer index tensor or a boolean mask (advanced indexing).</summary>
        Tensor,
    }

    /// <summary>The kind of this index.</summary>
    public readonly Type kind;

    /// <summary>The position for <see cref="Type.Single"/>, or the slice start (null: from the beginning).</summary>
    public readonly long? startIndexOrBoolOrSingle;

    /// <summary>The slice stop (exclusive; null: to the end).</summary>
    public readonly long? stopIndex;

    /// <summary>The slice step (null: 1).</summary>
    public readonly long? step;

    /// <summary>The index tensor for <see cref="Type.Tensor"/>.</summary>
    public readonly Nabla.Tensor? tensor;

    // C#'s ^0 as a single index means "one past the end": kept apart because -0 is 0.
    internal readonly bool SingleIsEnd;

    TensorIndex(Type kind, long? start = null, long? stop = null, long? step = null, Nabla.Tensor? tensor = null, bool singleIsEnd = false)
    {
        this.kind = kind;
        startIndexOrBoolOrSingle = start;
        stopIndex = stop;
        this.step = step;
        this.tensor = tensor;
        SingleIsEnd = singleIsEnd;
    }

    /// <summary>Python's <c>None</c> inside an index: a new axis of size 1 (<c>x[None]</c>).</summary>
    public static readonly TensorIndex None = new(Type.None);

    /// <summary>Python's <c>...</c>: stands for as many <c>:</c> as the other indices leave.</summary>
    public static readonly TensorIndex Ellipsis = new(Type.Ellipsis);

    /// <summary>Python's <c>:</c>: the whole axis.</summary>
    public static readonly TensorIndex Colon = new(Type.Slice);

    /// <summary>An integer index (negative counts from the end): selects one position and drops the axis.</summary>
    public static TensorIndex Single(long index) => new(Type.Single, index);

    /// <summary>A Python slice <c>start:stop:step</c> (nulls as omitted bounds; the step must be positive).</summary>
    public static TensorIndex Slice(long? start = null, long? stop = null, long? step = null) => new(Type.Slice, start, stop, step);

    /// <summary>A boolean index: a new axis of size 1 (true) or 0 (false).</summary>
    public static TensorIndex Bool(bool value) => new(Type.Bool, value ? 1 : 0);

    /// <summary>An index tensor: int64/int32 positions, or a bool mask spanning as many axes as it has dims.</summary>
    public static TensorIndex Tensor(Nabla.Tensor indices) => new(Type.Tensor, tensor: indices ?? throw new ArgumentNullException(nameof(indices)));

    /// <summary>An integer index.</summary>
    public static implicit operator TensorIndex(long index) => Single(index);

    /// <summary>An integer index.</summary>
    public static implicit operator TensorIndex(int index) => Single(index);

    /// <summary>A boolean index.</summary>
    public static implicit operator TensorIndex(bool value) => Bool(value);

    /// <summary>An index tensor or mask.</summary>
    public static implicit operator TensorIndex(Nabla.Tensor indices) => Tensor(indices);

    /// <summary>A C# index: <c>^1</c> is the last element.</summary>
    public static implicit operator TensorIndex(Index index) =>
        !index.IsFromEnd ? Single(index.Value) : index.Value == 0 ? new(Type.Single, 0, singleIsEnd: true) : Single(-(long)index.Value);

    /// <summary>A C# range as a slice with step 1: <c>1..3</c>, <c>..</c>, <c>^2..</c>, <c>..^1</c>.</summary>
    public static implicit operator TensorIndex(Range range)
    {
        long? start = range.Start.IsFromEnd
            ? (range.Start.Value == 0 ? long.MaxValue : -(long)range.Start.Value)
            : range.Start.Value == 0 ? null : range.Start.Value;
        long? stop = range.End.IsFromEnd
            ? (range.End.Value == 0 ? null : -(long)range.End.Value)
            : range.End.Value;
        return new(Type.Slice, start, stop, null);
    }

    /// <summary>Python's spelling of the index (<c>0</c>, <c>1:3</c>, <c>:</c>, <c>...</c>, <c>None</c>, <c>True</c>, <c>tensor</c>).</summary>
    public override string ToString() => kind switch
    {
        Type.None => "None",
        Type.Ellipsis => "...",
        Type.Single => SingleIsEnd ? "^0" : startIndexOrBoolOrSingle!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Type.Bool => startIndexOrBoolOrSingle != 0 ? "True" : "False",
        Type.Slice => $"{startIndexOrBoolOrSingle}:{stopIndex}" + (step is { } s ? $":{s}" : ""),
        _ => "tensor",
    };
}
