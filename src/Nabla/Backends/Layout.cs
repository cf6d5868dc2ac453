namespace Nabla.Backends;

/// <summary>
/// Where a tensor's elements sit inside its storage: sizes, strides (in elements) and the offset of the first
/// element (candle's <c>Layout</c>). A value type that borrows the tensor's arrays, so building one costs nothing.
/// </summary>
internal readonly struct Layout
{
    public readonly long[] Shape;
    public readonly long[] Strides;
    public readonly int Offset;
    public readonly int Numel;

    public Layout(long[] shape, long[] strides, int offset, int numel)
    {
        Shape = shape;
        Strides = strides;
        Offset = offset;
        Numel = numel;
    }

    /// <summary>A dense row-major layout of <paramref name="shape"/> from offset 0.</summary>
    public static Layout Contiguous(long[] shape) => new(shape, ShapeUtil.ContiguousStrides(shape), 0, ShapeUtil.Numel(shape));

    public int Rank => Shape.Length;

    public bool IsContiguous => ShapeUtil.IsContiguous(Shape, Strides);

    /// <summary>Strides that read <paramref name="t"/> broadcast to <paramref name="shape"/> (0 on broadcast dims).</summary>
    public static long[] BroadcastStrides(in Layout t, ReadOnlySpan<long> shape)
    {
        var strides = new long[shape.Length];
        int lead = shape.Length - t.Shape.Length;
        if (lead < 0) throw new ArgumentException($"cannot broadcast {ShapeUtil.Format(t.Shape)} to {ShapeUtil.Format(shape)}");
        for (int i = 0; i < t.Shape.Length; i++)
        {
            long size = t.Shape[i];
            if (size == shape[lead + i]) strides[lead + i] = t.Strides[i];
            else if (size == 1) strides[lead + i] = 0;
            else
                throw new ArgumentException(
                    $"The expanded size of the tensor ({shape[lead + i]}) must match the existing size ({size}) at non-singleton dimension {lead + i}.  Target sizes: {ShapeUtil.Format(shape)}.  Tensor sizes: {ShapeUtil.Format(t.Shape)}");
        }
        return strides;
    }
}

/// <summary>
/// One operand of a backend primitive: a storage plus the layout to read or write it with. This is all a backend
/// ever sees of a tensor: no autograd state, no Tensor methods (so nothing below the wall can record).
/// </summary>
internal readonly struct Operand
{
    public readonly Storage Storage;
    public readonly Layout Layout;

    public Operand(Storage storage, Layout layout)
    {
        Storage = storage;
        Layout = layout;
    }

    public Operand(Storage storage, long[] shape, long[] strides, int offset)
        : this(storage, new Layout(shape, strides, offset, ShapeUtil.Numel(shape)))
    {
    }

    public long[] Shape => Layout.Shape;
    public long[] Strides => Layout.Strides;
    public int Offset => Layout.Offset;
    public int Numel => Layout.Numel;
    public int Rank => Layout.Shape.Length;
    public ScalarType DType => Storage.DType;
    public bool IsContiguous => Layout.IsContiguous;

    public static bool ShapesEqual(in Operand a, in Operand b) => a.Layout.Shape.AsSpan().SequenceEqual(b.Layout.Shape);

    /// <summary>The same storage read with another layout (a view).</summary>
    public Operand With(long[] shape, long[] strides, int offset) => new(Storage, shape, strides, offset);
}
