namespace Nabla.Backends.Meta;

internal sealed partial class MetaBackend
{
    public override void MaxPool2d(in Operand y, in Operand indices, in Operand x, in SlidingWindow window)
    {
    }

    public override void MaxPool2dBackward(in Operand gx, in Operand gy, in Operand indices)
    {
    }

    public override void AvgPool2d(in Operand y, in Operand x, in SlidingWindow window, bool countIncludePad)
    {
    }

    public override void AvgPool2dBackward(in Operand gx, in Operand gy, in SlidingWindow window, bool countIncludePad)
    {
    }

    public override void AdaptiveAvgPool2d(in Operand y, in Operand x)
    {
    }

    public override void AdaptiveAvgPool2dBackward(in Operand gx, in Operand gy)
    {
    }
}
