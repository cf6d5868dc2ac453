namespace Nabla.Backends.Meta;

internal sealed partial class MetaBackend
{
    public override void ConvForward(in Operand y, in Operand x, in Operand w, Operand? bias, in SlidingWindow window, int groups)
    {
    }

    public override void ConvBackwardInput(in Operand gx, in Operand gy, in Operand w, in SlidingWindow window, int groups)
    {
    }

    public override void ConvBackwardWeight(in Operand gw, in Operand x, in Operand gy, in SlidingWindow window, int groups)
    {
    }
}
