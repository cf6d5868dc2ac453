namespace Nabla.Backends.Meta;

/// <summary>
/// PyTorch's meta device: tensors carry shapes, dtypes and strides but no data. Ops compute result shapes above the
/// wall (Note [The backend wall]), so every compute primitive here does nothing; anything that would read or write
/// element values raises PyTorch's error. Users build models on meta to count parameters and plan memory.
/// </summary>
internal sealed partial class MetaBackend : Backend
{
    /// <summary>The one meta backend.</summary>
    public static readonly MetaBackend Instance = new();

    MetaBackend()
    {
    }

    public override Device Device => Device.Meta;

    public override Storage Allocate(ScalarType dtype, int length, bool zero) => new MetaStorage(dtype, length);

    internal static NotSupportedException NoData() =>
        new("Cannot copy out of meta tensor; no data! (tensors on the meta device have shapes and dtypes but no elements)");

    internal static NotSupportedException NoValue(string what) =>
        new($"{what} cannot be called on meta tensors: they have shapes and dtypes but no elements");

    public override void Copy(in Operand dst, in Operand src)
    {
    }

    public override void Fill(in Operand dst, Scalar value)
    {
    }

    public override double ReadElement(in Operand src, int linear) => throw NoValue("Tensor.item()");

    public override void WriteElement(in Operand dst, int linear, double value)
    {
    }

    public override void CopyToHost<T>(in Operand src, Span<T> dst) => throw NoData();

    public override void CopyFromHost<T>(in Operand dst, ReadOnlySpan<T> src)
    {
    }

    public override void Unary(UnaryOp op, in Operand dst, in Operand a)
    {
    }

    public override void Binary(BinaryOp op, in Operand dst, in Operand a, in Operand b)
    {
    }

    public override void BinaryScalar(BinaryOp op, in Operand dst, in Operand a, Scalar s, bool scalarLeft)
    {
    }

    public override bool TryAxpy(in Operand dst, in Operand a, in Operand b, double alpha) => true;

    public override bool TryClampGrad(in Operand dst, in Operand g, in Operand x, double lo, double hi) => true;

    public override bool TryThresholdGrad(in Operand dst, in Operand g, in Operand y, double threshold) => true;

    public override void Compare(CompareOp op, in Operand dst, in Operand a, in Operand b)
    {
    }
}
